// The public report form files once: a reporter files a report with a file; a reload of
// the answer (which sends the form again) files nothing and says why. The Rust test also
// counts the team's mails: one, for the new report, not a second for its file. The Rust test browser::report_form_files_once_* counts the cases.
//
// It passes EMBARGO_URL and SHOTS.

import { env, start } from "./common.mjs";

const { browser, fail, expect, check, watch, go, submitAndWait, finish } = await start(env("EMBARGO_URL"), env("SHOTS"));

try {
  const context = await browser.newContext();
  const reporter = await context.newPage();
  watch(reporter, "reporter");
  let response = await go(reporter, "/projects/CLOUDSTACK/report");
  await check("report-form", reporter, response);
  await reporter.getByLabel("Short title").fill("Path traversal in the upload API, filed once");
  await reporter.getByLabel("The vulnerability").fill("../../etc/passwd through the upload name.");
  await reporter.getByLabel("Your email address").fill("fay@finder.example");
  await reporter.setInputFiles('input[type="file"]', { name: "poc.txt", mimeType: "text/plain", buffer: Buffer.from("GET /upload?name=../../etc/passwd\n") });
  response = await submitAndWait(reporter, reporter.getByRole("button", { name: "Send the report" }));
  expect(response.status() === 201, `filing answered ${response.status()}`);
  const ref = (await reporter.locator("#reference").textContent()).trim();
  expect((await reporter.locator("#attachment").textContent()).includes("poc.txt is attached"), "the file is attached to the report");
  console.log(`filed ${ref}`);
  // A reload sends the form again.
  response = await reporter.reload();
  expect(response.status() !== 201, `a reload of the filed form answered ${response.status()}`);
  expect((await reporter.content()).includes(ref) || (await reporter.locator(".notice").count()) > 0, "the reload says why nothing was filed");
  await check("report-reloaded", reporter, response);
  // Nor does a second reload.
  response = await reporter.reload();
  expect(response.status() !== 201, `a second reload answered ${response.status()}`);
  await context.close();
} catch (e) {
  fail(`the flow stopped: ${e.stack || e}`);
}
await finish({});
