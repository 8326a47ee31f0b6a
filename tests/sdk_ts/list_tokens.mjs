// Lists tokens with the official SDK's auto-pagination and prints [{id, status, tags}] as JSON.
// Env: WAITPOINTS_API_URL, WAITPOINTS_SECRET_KEY, LIST_PARAMS (JSON: the wait.listTokens params).
import { configure, wait } from "@trigger.dev/sdk";

configure({
  baseURL: process.env.WAITPOINTS_API_URL,
  accessToken: process.env.WAITPOINTS_SECRET_KEY,
  requestOptions: { retry: { maxAttempts: 1 } },
});

const seen = [];
for await (const token of wait.listTokens(JSON.parse(process.env.LIST_PARAMS ?? "{}"))) {
  seen.push({ id: token.id, status: token.status, tags: token.tags });
}
console.log(JSON.stringify(seen));
