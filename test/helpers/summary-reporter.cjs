// Mocha reporter: Mocha's usual "spec" output, then one closing line that CI reads:
// "N passed, N failed" (", N skipped" when some are pending). Counts come from the
// runner's own events, so a hook failure counts as a failure too.
//
// A pending (skipped) test counts as a failure unless test/allowed-skips.txt lists its full
// title with a reason ("<full title> | <reason>"): a skip nobody explained is a test that
// silently stopped running. Each unexplained one is printed so the fix is obvious.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const Mocha = require("mocha");

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;

// STABLERAIL_ALLOWED_SKIPS names another list (the reporter's own test uses one).
const ALLOWED_SKIPS_FILE = process.env.STABLERAIL_ALLOWED_SKIPS ?? path.join(__dirname, "..", "allowed-skips.txt");

/**
 * The full titles skipping is allowed for, read from test/allowed-skips.txt: one
 * "<full title> | <reason>" a line, "#" comments; a line without a reason allows nothing.
 * @returns {Set<string>}
 */
function allowedSkips() {
  if (!fs.existsSync(ALLOWED_SKIPS_FILE)) return new Set();
  const allowed = new Set();
  for (const line of fs.readFileSync(ALLOWED_SKIPS_FILE, "utf8").split("\n")) {
    if (!line.trim() || line.trimStart().startsWith("#")) continue;
    const separator = line.lastIndexOf(" | ");
    if (separator > 0 && line.slice(separator + 3).trim()) allowed.add(line.slice(0, separator).trim());
  }
  return allowed;
}

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    const allowed = allowedSkips();
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const unexplained = [];
    runner.on(EVENT_TEST_PASS, () => (passed += 1));
    runner.on(EVENT_TEST_FAIL, () => (failed += 1));
    runner.on(EVENT_TEST_PENDING, (test) => {
      if (allowed.has(test.fullTitle())) skipped += 1;
      else unexplained.push(test.fullTitle());
    });
    runner.once(EVENT_RUN_END, () => {
      for (const title of unexplained)
        process.stdout.write(`\nskipped without a reason in test/allowed-skips.txt (counted as failed): ${title}`);
      const tail = skipped > 0 ? `, ${skipped} skipped` : "";
      process.stdout.write(`\n${passed} passed, ${failed + unexplained.length} failed${tail}\n`);
    });
  }
}

module.exports = SummaryReporter;
