// handlebars.js renders Herald's bench email (internal/render/testdata),
// the same template and data as BenchmarkHeraldEmail: compiled once, then
// rendered in rounds; prints the median of the rounds in ns per render,
// in `go test -bench`'s line format so one run's figures sit together.
// Run by `make bench-js` (it installs the pinned handlebars first).
"use strict";
const fs = require("fs");
const path = require("path");
const Handlebars = require("handlebars");

const dir = path.join(__dirname, "..", "..", "testdata");
const heraldDefault = '{%= profile.person.name.firstName ?: "there" %}';
const hbsDefault = "{{#if profile.person.name.firstName}}{{profile.person.name.firstName}}{{else}}there{{/if}}";
let source = fs.readFileSync(path.join(dir, "email.hbs"), "utf8");
if (!source.includes(heraldDefault)) {
  throw new Error("fixture no longer contains the default expression");
}
source = source.replace(heraldDefault, hbsDefault);
const data = JSON.parse(fs.readFileSync(path.join(dir, "data.json"), "utf8"));
const golden = fs.readFileSync(path.join(dir, "email.golden.html"), "utf8");

const render = Handlebars.compile(source);
const out = render(data);
// The same email as Herald's, but for the characters handlebars.js
// escapes and Herald does not need to ('=' and '`'; Herald escapes what
// HTML requires, handlebars.js also these two).
const norm = (s) => s.replace(/&#x3D;/g, "=").replace(/&#x60;/g, "`").replace(/&#61;/g, "=").replace(/&#96;/g, "`");
if (norm(out) !== norm(golden)) {
  console.error("handlebars.js output differs from Herald's golden email");
  process.exit(1);
}

const perRound = 20000;
const rounds = Number(process.env.ROUNDS || 15);
let sink = 0;
for (let i = 0; i < perRound * 3; i++) sink += render(data).length; // warm up (JIT)
const times = [];
for (let r = 0; r < rounds; r++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < perRound; i++) sink += render(data).length;
  times.push(Number(process.hrtime.bigint() - t0) / perRound);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`BenchmarkHandlebarsJSEmail\t${perRound * rounds}\t${median.toFixed(0)} ns/op\t(median of ${rounds} rounds; handlebars ${require("handlebars/package.json").version}, node ${process.version}; ${sink > 0 ? "ok" : ""})`);
