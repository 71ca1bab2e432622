// Runs the script of integrations/zabbix/mailroom.yaml the way Zabbix's webhook media types run
// (a function of `value`, the parameters as JSON, with Zabbix's HttpRequest and Zabbix.log), so
// the test posts what a real Zabbix server would. HttpRequest is Zabbix's synchronous client;
// here curl does the request. Usage: node zabbix_shim.js MEDIA_TYPE.yaml PARAMS_JSON
'use strict';
const fs = require('fs');
const { execFileSync } = require('child_process');

const [file, value] = process.argv.slice(2);
const lines = fs.readFileSync(file, 'utf8').split('\n');
const start = lines.findIndex((l) => l.trim() === 'script: |');
if (start < 0) throw new Error('no script in ' + file);
const indent = lines[start + 1].search(/\S/);
const body = [];
for (const line of lines.slice(start + 1)) {
  if (line.trim() !== '' && line.search(/\S/) < indent) break;
  body.push(line.slice(indent));
}

function HttpRequest() {
  this.headers = [];
  this.status = 0;
}
HttpRequest.prototype.addHeader = function (header) {
  this.headers.push(header);
};
HttpRequest.prototype.post = function (url, data) {
  const args = ['-s', '-X', 'POST', '--data-binary', '@-', '-w', '\n%{http_code}'];
  for (const h of this.headers) args.push('-H', h);
  args.push(url);
  const out = execFileSync('curl', args, { input: data }).toString();
  const cut = out.lastIndexOf('\n');
  this.status = parseInt(out.slice(cut + 1), 10);
  return out.slice(0, cut);
};
HttpRequest.prototype.getStatus = function () {
  return this.status;
};
const Zabbix = { log() {} };

try {
  const result = new Function('value', 'HttpRequest', 'Zabbix', body.join('\n'))(value, HttpRequest, Zabbix);
  process.stdout.write(String(result));
} catch (e) {
  process.stdout.write('FAILED: ' + e);
  process.exitCode = 1;
}
