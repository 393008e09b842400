// A new installation in the browser: the one-time link `embargo serve` printed opens the
// setup page, which makes the first administrator, organisation and project and signs
// the administrator in; a reload of the spent link does nothing. Every page is checked as
// in flow.mjs.
//
// The Rust test browser::first_run_* passes EMBARGO_URL, SETUP_PATH and SHOTS.

import { env, start } from "./common.mjs";

const { browser, fail, expect, check, watch, go, submitAndWait, finish } = await start(env("EMBARGO_URL"), env("SHOTS"));

try {
  const context = await browser.newContext();
  const page = await context.newPage();
  watch(page, "first-run");
  let response = await go(page, "/sign-in");
  await check("sign-in-fresh", page, response);
  expect((await page.locator(".notice").textContent()).includes("setup link"), "the sign-in page points to the setup link");
  response = await go(page, env("SETUP_PATH"));
  expect(response.status() === 200, `the setup page answered ${response.status()}`);
  await check("setup", page, response);
  await page.getByLabel(/Your email address/).fill("lead@example.org");
  await page.getByLabel(/A password of at least 12 characters/).fill("lead password 123");
  await page.getByLabel(/Organisation/).fill("Example Foundation");
  await page.getByLabel(/Project key/).fill("EXAMPLE");
  await page.getByLabel(/Project name shown publicly/).fill("Example Server");
  response = await submitAndWait(page, page.getByRole("button", { name: "Set up" }));
  expect(page.url().endsWith("/desk/account"), `signed in on the account page, at ${page.url()}`);
  await check("setup-done", page, response);
  response = await go(page, "/desk/admin");
  expect((await page.locator("#p-EXAMPLE").textContent()).includes("Example Server"), "the project exists, by its name");
  response = await go(page, env("SETUP_PATH"));
  expect(response.status() === 404, `the spent link answered ${response.status()}`);
  await context.close();
} catch (e) {
  fail(`the flow stopped: ${e.stack || e}`);
}
await finish({});
