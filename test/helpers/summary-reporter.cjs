// Mocha reporter: Mocha's usual "spec" output, then one closing line that CI reads:
// "N passed, N failed" (", N skipped" when some are pending). Counts come from the
// runner's own events, so a hook failure counts as a failure too.
"use strict";
const Mocha = require("mocha");

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    runner.on(EVENT_TEST_PASS, () => (passed += 1));
    runner.on(EVENT_TEST_FAIL, () => (failed += 1));
    runner.on(EVENT_TEST_PENDING, () => (skipped += 1));
    runner.once(EVENT_RUN_END, () => {
      const tail = skipped > 0 ? `, ${skipped} skipped` : "";
      process.stdout.write(`\n${passed} passed, ${failed} failed${tail}\n`);
    });
  }
}

module.exports = SummaryReporter;
