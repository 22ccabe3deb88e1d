// Compiles src/*.sol with solc 0.8.28 (optimizer on, 200 runs) and writes each contract's
// runtime bytecode as hex to bin/<Name>.hex, the files pel-inputs embeds.
// `node build.mjs --check` writes nothing and exits 1 if a committed file differs.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const root = path.dirname(fileURLToPath(import.meta.url));
const check = process.argv.includes("--check");
const sources = {};
for (const name of fs.readdirSync(path.join(root, "src")).sort()) {
  if (name.endsWith(".sol")) {
    sources[name] = { content: fs.readFileSync(path.join(root, "src", name), "utf8") };
  }
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    outputSelection: { "*": { "*": ["evm.deployedBytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors ?? []).filter((e) => e.severity === "error");
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
let stale = 0;
fs.mkdirSync(path.join(root, "bin"), { recursive: true });
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [name, contract] of Object.entries(contracts)) {
    if (file !== `${name}.sol`) continue; // interfaces declared beside a contract
    const hex = contract.evm.deployedBytecode.object + "\n";
    const target = path.join(root, "bin", `${name}.hex`);
    const current = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : null;
    if (check) {
      if (current !== hex) {
        console.error(`${target}: differs from what solc ${solc.version()} compiles`);
        stale += 1;
      }
    } else {
      fs.writeFileSync(target, hex);
      console.log(`${target}: ${(hex.length - 1) / 2} bytes`);
    }
  }
}
if (check) {
  if (stale > 0) process.exit(1);
  console.log(`bytecode matches solc ${solc.version()}`);
}
