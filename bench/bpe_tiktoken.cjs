// bpe_tiktoken.cjs: the tiktoken peer of bench/bpe_bench: GPT-2 encoding speed of the npm package
// `tiktoken` (Rust compiled to WebAssembly), installed into bench/node_modules by bpe_bench.sh.
//
//   node bench/bpe_tiktoken.cjs FILE RUNS
//
// Reads FILE as UTF-8 (invalid bytes become U+FFFD), encodes it RUNS times with
// get_encoding("gpt2") and <|endoftext|> allowed as a special token, and prints one JSON line:
//   {"ms": median, "tokens": n, "checksum": FNV-1a of the ids}
// The checksum lets bpe_bench check that both produce the same ids.
const { get_encoding } = require("tiktoken");
const fs = require("fs");

const [file, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 3);
const text = fs.readFileSync(file, "utf8");
const encoding = get_encoding("gpt2");
const times = [];
let ids = null;
for (let r = 0; r < runs; r++) {
  const start = process.hrtime.bigint();
  ids = encoding.encode(text, "all");
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
times.sort((a, b) => a - b);
let checksum = 0x811c9dc5;
for (const id of ids) {
  checksum = Math.imul(checksum ^ id, 0x01000193) >>> 0;
}
console.log(JSON.stringify({ ms: times[Math.floor(times.length / 2)], tokens: ids.length, checksum }));
encoding.free();
