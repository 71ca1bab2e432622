//! The server's integration tests, in one binary: the real app on loopback with a real sled and
//! a real SMTP server (helpers), one module per feature.

mod attacks;
mod api_v1;
mod auth;
mod contract;
mod foundation;
mod helpers;
mod instances;
mod languages;
mod mail_test;
mod oauth_mailbox;
mod outbox;
mod pages;
mod security;
mod settings;
mod smtp;
mod templates;
mod webhooks;
