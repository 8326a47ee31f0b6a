// Test-only: a page a Trigger.dev user could write, completing one wait token from the browser with
// @trigger.dev/react-hooks' useWaitToken and the token's public access token. tests/react_hooks/test_use_wait_token.py
// bundles it with esbuild and opens it in Chromium. The page asks its own server for the token (token.json:
// {tokenId, accessToken, baseURL}), as an app's page would; never in the URL, which logs and history keep.
import { useWaitToken } from "@trigger.dev/react-hooks";
import { useState } from "react";
import { createRoot } from "react-dom/client";

function state({ isReady, isLoading, isCompleted, error }) {
  if (error) return "error";
  if (isCompleted) return "completed";
  if (isLoading) return "completing";
  return isReady ? "waiting" : "not-ready";
}

const LABELS = { completed: "Completed", completing: "Completing…", waiting: "Waiting", "not-ready": "No token" };

// tokenId, accessToken: the token's id and publicAccessToken, from your server; baseURL: the waitpoints API's URL.
function Approve({ tokenId, accessToken, baseURL }) {
  const [comment, setComment] = useState("");
  const { complete, isLoading, isCompleted, isReady, error } = useWaitToken(tokenId, { accessToken, baseURL });
  const approve = () => complete({ approved: true, comment }); // POST {baseURL}/api/v1/waitpoints/tokens/{tokenId}/complete
  const current = state({ isReady, isLoading, isCompleted, error });
  return (
    <main>
      <h1>Approve the deploy?</h1>
      <p>
        Token <code id="token-id">{tokenId}</code>
      </p>
      <label>
        Comment <input value={comment} onChange={(e) => setComment(e.target.value)} disabled={isCompleted} />
      </label>{" "}
      <button type="button" disabled={!isReady || isLoading || isCompleted} onClick={approve}>
        Complete
      </button>
      <p id="state" role="status" data-state={current}>
        {LABELS[current] ?? "Error"}
      </p>
      {error && <p id="error" role="alert">{`${error.name}: ${error.message}`}</p>}
    </main>
  );
}

const { tokenId, accessToken, baseURL } = await (await fetch("token.json")).json();
createRoot(document.getElementById("root")).render(
  <Approve tokenId={tokenId} accessToken={accessToken} baseURL={baseURL} />,
);
