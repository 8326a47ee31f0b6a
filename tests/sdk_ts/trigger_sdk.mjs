// Drives Trigger.dev's official SDK (@trigger.dev/sdk, pinned in package.json) against a waitpoints API.
// Usage: node trigger_sdk.mjs <scenario>   with WAITPOINTS_API_URL, WAITPOINTS_SECRET_KEY and RUN_ID set.
// Prints one JSON object: what each SDK call returned (or the error it threw), for the Python test to check.
import { auth, configure, wait } from "@trigger.dev/sdk";

const baseURL = process.env.WAITPOINTS_API_URL;
const secretKey = process.env.WAITPOINTS_SECRET_KEY;
const runId = process.env.RUN_ID ?? String(Date.now());

// One attempt: a failure must surface at once, not after the SDK's default ~9 s of retries.
configure({ baseURL, accessToken: secretKey, requestOptions: { retry: { maxAttempts: 1 } } });

async function attempt(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error: error?.constructor?.name, status: error?.status, message: String(error?.message ?? error) };
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function tokens() {
  const key = `ts-sdk-${runId}`;
  const tags = [`ts-run:${runId}`, "ts-sdk"];
  const out = {};
  out.created = await attempt(() => wait.createToken({ timeout: "1h", idempotencyKey: key, idempotencyKeyTTL: "10m", tags }));
  out.cached = await attempt(() => wait.createToken({ timeout: "2h", idempotencyKey: key, tags: ["ignored"] }));
  const id = out.created.value?.id;
  out.retrievedWaiting = await attempt(() => wait.retrieveToken(id));
  out.completed = await attempt(() => wait.completeToken(id, { status: "approved", n: 1, nested: { list: [1, "two", null] } }));
  out.retrievedCompleted = await attempt(() => wait.retrieveToken(id));
  out.completedAgain = await attempt(() => wait.completeToken(id, { status: "rejected" }));
  out.retrievedAfterAgain = await attempt(() => wait.retrieveToken(id));

  // A Date timeout is sent as an ISO string; the token is completed with its public access token.
  const at = new Date(Date.now() + 3600_000);
  out.createdWithDate = await attempt(() => wait.createToken({ timeout: at }));
  out.dateTimeout = at.toISOString();
  const second = out.createdWithDate.value;
  out.completedWithPublicToken = await attempt(() =>
    auth.withAuth({ baseURL, accessToken: second.publicAccessToken }, () => wait.completeToken(second, "plain text")));
  out.retrievedText = await attempt(() => wait.retrieveToken(second.id));

  // A public access token is scoped to its own token: another token is 403.
  out.otherToken = await attempt(() => wait.createToken({}));
  out.completedOtherWithWrongToken = await attempt(() =>
    auth.withAuth({ baseURL, accessToken: second.publicAccessToken }, () => wait.completeToken(out.otherToken.value.id, {})));
  out.completedNoData = await attempt(() => wait.completeToken(out.otherToken.value.id));
  out.retrievedNoData = await attempt(() => wait.retrieveToken(out.otherToken.value.id));

  out.notFound = await attempt(() => wait.retrieveToken("waitpoint_doesnotexist0000000000000"));
  out.badKey = await attempt(() => auth.withAuth({ baseURL, accessToken: "wp_dev_not-a-real-key" }, () => wait.retrieveToken(id)));
  out.tooManyTags = await attempt(() => wait.createToken({ tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }));

  // The guide's own call: a description. The SDK sends it as given; its response schemas drop the field, so
  // retrieve and list must still parse (they carry it: retrieve as `description`).
  const describedTag = `ts-described:${runId}`;
  out.described = await attempt(() => wait.createToken({ timeout: "1h", description: "Waiting for approval", tags: [describedTag] }));
  out.retrievedDescribed = await attempt(() => wait.retrieveToken(out.described.value.id));
  out.listedDescribed = await attempt(async () => {
    const found = [];
    for await (const token of wait.listTokens({ tags: [describedTag] })) found.push(token);
    return found;
  });

  // Timing out: the SDK reads the stored timeout error as `error`.
  out.shortLived = await attempt(() => wait.createToken({ timeout: "1s" }));
  await sleep(1300);
  out.retrievedTimedOut = await attempt(() => wait.retrieveToken(out.shortLived.value.id));
  return out;
}

async function list() {
  const tag = `ts-list:${runId}`;
  const out = { ids: [] };
  for (let i = 0; i < 3; i++) {
    const created = await wait.createToken({ timeout: "1h", tags: [tag], idempotencyKey: `ts-list-${runId}-${i}` });
    out.ids.push(created.id);
  }
  await wait.completeToken(out.ids[0], { done: true });
  // The creation window of the three, as the server stamped them. Status filters use it rather than the tag:
  // a tag listing may show a status the table's stream has not synced yet.
  const from = (await wait.retrieveToken(out.ids[0])).createdAt;
  const to = (await wait.retrieveToken(out.ids[2])).createdAt;
  const collect = async (params) => {
    const found = [];
    for await (const token of wait.listTokens(params)) found.push(token);
    return found;
  };
  out.all = await attempt(() => collect({ tags: [tag], limit: 2 }));
  out.waiting = await attempt(() => collect({ status: "WAITING", from, to }));
  out.completedOrTimedOut = await attempt(() => collect({ status: ["COMPLETED", "TIMED_OUT"], from, to }));
  out.byKey = await attempt(() => collect({ idempotencyKey: `ts-list-${runId}-1` }));
  out.lastHour = await attempt(() => collect({ tags: [tag], period: "1h" }));
  out.fromTo = await attempt(() => collect({ from, to }));
  out.future = await attempt(() => collect({ tags: [tag], from: new Date(to.getTime() + 600_000) }));
  const page = await attempt(async () => {
    const first = await wait.listTokens({ tags: [tag], limit: 2 });
    const second = first.hasNextPage() ? await first.getNextPage() : null;
    return { first: first.data.map((t) => t.id), hasNext: first.hasNextPage(), second: second?.data.map((t) => t.id) ?? null };
  });
  out.pages = page;
  return out;
}

// A rejected token (rejected over plain HTTP: the SDK has no reject) must read and list without an error: the
// service shows it as COMPLETED with outputIsError, which the SDK reports as an error output.
async function rejected() {
  const tag = `ts-rejected:${runId}`;
  const out = {};
  const created = await wait.createToken({ timeout: "1h", tags: [tag] });
  out.id = created.id;
  const response = await fetch(`${baseURL}/api/v1/waitpoints/tokens/${created.id}/reject`, {
    method: "POST",
    headers: { authorization: `Bearer ${secretKey}`, "content-type": "application/json" },
    body: JSON.stringify({ reason: "Not this quarter", data: { by: "ana" } }),
  });
  out.rejectStatus = response.status;
  out.retrieved = await attempt(() => wait.retrieveToken(created.id));
  // A tag listing follows the table's stream (README, "Listing"): it may show WAITING for a moment.
  out.listed = await attempt(async () => {
    for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 200))) {
      const found = [];
      for await (const token of wait.listTokens({ tags: [tag] })) found.push(token);
      if (found.every((token) => token.status !== "WAITING") || Date.now() > deadline) return found;
    }
  });
  out.listedCompleted = await attempt(async () => {
    const found = [];
    for await (const token of wait.listTokens({ status: "COMPLETED", tags: [tag] })) found.push(token);
    return found;
  });
  return out;
}

const scenarios = { tokens, list, rejected };
const scenario = scenarios[process.argv[2]];
if (!scenario) {
  console.error(`usage: node trigger_sdk.mjs <${Object.keys(scenarios).join("|")}>`);
  process.exit(2);
}
// Errors inside results (a timed-out token's `error`) print as {error: class name, message}.
const errors = (_key, value) => (value instanceof Error ? { error: value.constructor.name, message: value.message } : value);
console.log(JSON.stringify(await scenario(), errors));
