#!/usr/bin/env node
// Where the bytes of a build go: each source file's share of the min + gzip -9 size, measured as how much smaller the
// gzipped build gets without that file's code (attributed through the build's source map). For size work, not a
// budget: bench/size.mjs holds the budgets. Run `npm run build` first.
//
//   node bench/size-by-module.mjs [dist/secure-widget.js]
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { TraceMap, eachMapping } from '@jridgewell/trace-mapping';

const file = process.argv[2] ?? 'dist/secure-widget.js';
const code = readFileSync(file, 'utf8');
const map = new TraceMap(readFileSync(`${file}.map`, 'utf8'));

const lineStarts = [];
let offset = 0;
for (const line of code.split('\n')) {
  lineStarts.push(offset);
  offset += line.length + 1;
}
// Each generated character belongs to the source of the last mapping at or before it.
const marks = [];
eachMapping(map, (mapping) =>
  marks.push([lineStarts[mapping.generatedLine - 1] + mapping.generatedColumn, mapping.source]),
);
marks.sort((a, b) => a[0] - b[0]);
const owner = new Array(code.length).fill(null);
for (const [index, [start, source]] of marks.entries()) {
  const end = index + 1 < marks.length ? marks[index + 1][0] : code.length;
  owner.fill(source, start, end);
}

const gzip = (text) => gzipSync(text, { level: 9 }).length;
const total = gzip(code);
const rows = [...new Set(owner.filter(Boolean))].map((source) => {
  let rest = '';
  let bytes = 0;
  for (let index = 0; index < code.length; index += 1) {
    if (owner[index] === source) bytes += 1;
    else rest += code[index];
  }
  const name = source.replace(/.*node_modules\//, '').replace(/.*\/src\//, 'src/');
  return { name, minified: bytes, gzip: total - gzip(rest) };
});
rows.sort((a, b) => b.gzip - a.gzip);
console.log(`${file}: ${(total / 1024).toFixed(2)} KB min + gzip -9`);
for (const { name, minified, gzip: share } of rows) {
  console.log(`${String(share).padStart(6)} B gzip ${String(minified).padStart(7)} B min  ${name}`);
}
console.log(`reproduce: npm run build && node bench/size-by-module.mjs ${file}`);
