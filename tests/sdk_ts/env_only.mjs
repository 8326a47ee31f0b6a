// Trigger.dev's official SDK with nothing but its own environment variables: TRIGGER_API_URL and
// TRIGGER_SECRET_KEY, as a Trigger.dev user has them. No configure() call. Prints one JSON object.
import { wait } from "@trigger.dev/sdk";

const token = await wait.createToken({ timeout: "10m", tags: ["ts-env-only"] });
const waiting = await wait.retrieveToken(token.id);
await wait.completeToken(token.id, { approved: true });
const completed = await wait.retrieveToken(token.id);
const listed = [];
for await (const item of wait.listTokens({ tags: ["ts-env-only"], status: ["COMPLETED"] })) {
  listed.push(item.id);
  if (listed.length >= 50) break;
}
console.log(JSON.stringify({ id: token.id, url: token.url, waiting: waiting.status, completed: completed.status, output: completed.output, listed }));
