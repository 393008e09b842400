// Onboarding by invitation: an administrator invites a newcomer to a project's team from
// the admin page; the newcomer chooses their password from the mailed link, turns on
// two-factor sign-in, signs out, and signs in again with a code; the team's queue opens.
//
// The Rust test browser::newcomer_* passes EMBARGO_URL, SHOTS, SINK_DIR, ROOT_EMAIL and
// ROOT_PASSWORD (an administrator), and REF (a case of the team's project).

import { env, start, totp } from "./common.mjs";

const { browser, fail, expect, check, watch, mailTo, go, submitAndWait, signIn, finish } = await start(env("EMBARGO_URL"), env("SHOTS"));

try {
  const root = await signIn("root", env("ROOT_EMAIL"), env("ROOT_PASSWORD"));
  let response = await go(root, "/desk/admin");
  await check("admin-administrator", root, response);
  await root.locator("#member-CLOUDSTACK").fill("newbie@example.org");
  response = await submitAndWait(root, root.locator('form[action="/desk/admin/member"]:has(#member-CLOUDSTACK)').getByRole("button", { name: "Invite to the team" }));
  expect((await root.locator(".notice").first().textContent()).includes("They are on the team"), "the invitation is confirmed");
  await check("admin-invited", root, response);
  await root.context().close();

  const welcome = await mailTo("newbie@example.org", /(\/welcome\/[A-Za-z0-9_-]+)/);
  const newbieContext = await browser.newContext();
  const newbie = await newbieContext.newPage();
  watch(newbie, "newbie");
  response = await go(newbie, welcome);
  await check("welcome-form", newbie, response);
  await newbie.getByLabel("Password (12 characters or more)").fill("newbie password 12");
  await newbie.getByLabel("The same password again").fill("newbie password 12");
  response = await submitAndWait(newbie, newbie.getByRole("button", { name: "Set my password" }));
  expect(newbie.url().includes("/desk/account"), `the newcomer lands on their account page, at ${newbie.url()}`);
  await check("account-welcome", newbie, response);
  await newbie.locator("#totp-password").fill("newbie password 12");
  await submitAndWait(newbie, newbie.getByRole("button", { name: "Set up two-factor sign-in" }));
  const secret = (await newbie.locator("#totp-secret").textContent()).trim();
  await newbie.getByLabel("The code from the app").fill(totp(secret, Date.now() / 1000));
  response = await submitAndWait(newbie, newbie.getByRole("button", { name: "Turn two-factor sign-in on" }));
  expect((await newbie.locator("#recovery-codes li").count()) >= 8, "the newcomer's recovery codes are shown");
  await check("account-recovery-codes", newbie, response);
  // The link is spent: the form it opens sets nothing any more.
  await go(newbie, welcome);
  await newbie.getByLabel("Password (12 characters or more)").fill("another password 12");
  await newbie.getByLabel("The same password again").fill("another password 12");
  response = await submitAndWait(newbie, newbie.getByRole("button", { name: "Set my password" }));
  expect(response.status() === 404, `the spent welcome link answered ${response.status()}`);
  await check("welcome-spent", newbie, response);
  await go(newbie, "/desk/account");
  await submitAndWait(newbie, newbie.getByRole("button", { name: "Sign out" }));
  await newbieContext.close();

  // Signing in again needs the code now; the next step's code (the one that confirmed
  // enrolment may not be replayed).
  const again = await signIn("newbie-again", "newbie@example.org", "newbie password 12");
  expect((await again.locator(".notice.error").textContent()).includes("code"), "a password alone is not enough once two-factor sign-in is on");
  await again.context().close();
  const signedIn = await signIn("newbie-again", "newbie@example.org", "newbie password 12", totp(secret, Date.now() / 1000 + 30));
  expect(signedIn.url().endsWith("/desk"), `signed in with the code, at ${signedIn.url()}`);
  expect(await signedIn.getByRole("link", { name: env("REF") }).count() === 1, "the newcomer's queue lists the team's case");
} catch (e) {
  fail(`the flow stopped: ${e.stack || e}`);
}
await finish({});
