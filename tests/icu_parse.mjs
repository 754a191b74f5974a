// Parses every string given on stdin (a JSON list) as an ICU message, the way Home Assistant's
// frontend does (intl-messageformat uses this parser), and prints a JSON list of failures.
// argv[2]: the folder npm installed @formatjs/icu-messageformat-parser into.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const entry = join(process.argv[2], "node_modules", "@formatjs", "icu-messageformat-parser",
                   "index.js");
const { parse } = await import(pathToFileURL(entry).href);
const failures = [];
for (const text of JSON.parse(readFileSync(0, "utf8"))) {
  try {
    parse(text);
  } catch (err) {
    failures.push({ text, error: String(err.message || err) });
  }
}
process.stdout.write(JSON.stringify(failures));
