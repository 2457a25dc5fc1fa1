// Prints the plain summary line CI ends with: "N passed, N failed" (from vitest's JSON report).
// Under CI=true a test that did not run (skipped, todo, pending) fails the run and is counted as
// failed in that line: tests that need a missing service already fail there (test/helpers/services.ts),
// so a skip in CI means a test was silently left out.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
// An optional label names a second run's line (e.g. "tRPC newest: 120 passed, 0 failed"), so it
// cannot be read as the final, unlabelled line CI ends with.
const label = process.argv[3] ? `${process.argv[3]}: ` : '';
// The same reading of CI as test/helpers/services.ts.
const inCI = process.env.CI === 'true' || process.env.CI === '1';
if (!existsSync(file)) {
  console.log(`(no test report at ${file}: the test run did not complete)`);
  console.log(`${label}0 passed, 0 failed`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const passed = report.numPassedTests ?? 0;
// A file that fails to load has no failed tests but is a failed suite: count each such file once.
// (Not numFailedTestSuites: vitest counts the file and every describe around a failed test there.)
const loadFailures = (report.testResults ?? []).filter(
  (result) => result.status === 'failed' && !(result.assertionResults ?? []).some((test) => test.status === 'failed'),
).length;
const failed = (report.numFailedTests ?? 0) + loadFailures;
// Every test that neither passed nor failed, by name (vitest reports them as skipped, todo or pending).
const notRun = (report.testResults ?? []).flatMap((result) =>
  (result.assertionResults ?? [])
    .filter((test) => test.status !== 'passed' && test.status !== 'failed')
    .map((test) => `${test.status}: ${test.fullName} (${result.name})`),
);
const skipped = Math.max(notRun.length, (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0));
if (skipped) {
  console.log(`(${skipped} skipped${inCI ? ': under CI=true a skipped test is a failure' : ''})`);
  const SHOWN = 20;
  for (const line of notRun.slice(0, SHOWN)) console.log(`  ${line}`);
  if (notRun.length > SHOWN) console.log(`  … and ${notRun.length - SHOWN} more`);
}
const failedInCI = failed + (inCI ? skipped : 0);
console.log(`${label}${passed} passed, ${failedInCI} failed`);
process.exit(failedInCI > 0 || passed === 0 ? 1 : 0);
