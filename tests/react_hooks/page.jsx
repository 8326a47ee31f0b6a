// Test-only: a page a Trigger.dev user could write, completing one wait token from the browser with
// @trigger.dev/react-hooks' useWaitToken and the token's public access token (tests/react_hooks/test_use_wait_token.py
// bundles it with esbuild and opens it in Chromium). The page reads what a real app would get from its own server
// from the query string: ?tokenId=waitpoint_...&accessToken=<publicAccessToken>&baseURL=<API base URL>.
import { useWaitToken } from "@trigger.dev/react-hooks";
import { useState } from "react";
import { createRoot } from "react-dom/client";

const params = new URLSearchParams(window.location.search);

function state({ isReady, isLoading, isCompleted, error }) {
  if (error) return "error";
  if (isCompleted) return "completed";
  if (isLoading) return "completing";
  return isReady ? "waiting" : "not-ready";
}

function Approve({ tokenId, accessToken, baseURL }) {
  const [comment, setComment] = useState("");
  const { complete, isLoading, isCompleted, isReady, error } = useWaitToken(tokenId, { accessToken, baseURL });
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
      <button
        type="button"
        disabled={!isReady || isLoading || isCompleted}
        onClick={() => complete({ approved: true, comment })}
      >
        Complete
      </button>
      <p id="state" role="status" data-state={current}>
        {current === "completed" ? "Completed" : current === "completing" ? "Completing…" : current}
      </p>
      {error && <p id="error" role="alert">{`${error.name}: ${error.message}`}</p>}
    </main>
  );
}

createRoot(document.getElementById("root")).render(
  <Approve tokenId={params.get("tokenId")} accessToken={params.get("accessToken")} baseURL={params.get("baseURL")} />,
);
