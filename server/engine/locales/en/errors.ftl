# The errors every page may show (a server function's refusal), in words.

error-conflict = These settings were saved elsewhere ({ $saved_at }) after you opened this page, so yours were not saved. Reload the page to see the newer version.
error-invalid = Nothing was saved: correct the fields marked below.
error-session-ended = Your session has ended: log in again.
error-too-many-logins = Too many failed logins: wait { $seconds } seconds, then try again.
error-rate-limited = At most { $limit } of these per minute: wait { $seconds } seconds, then try again.
error-busy = The server is busy: try again in { $seconds } seconds.
error-bad-request = The request could not be read: { $reason }
error-too-large = The request is too large.
