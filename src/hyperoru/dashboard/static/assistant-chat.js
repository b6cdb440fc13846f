// One chat turn of the assistant, streamed over SSE (POST /api/hyper-ai/chat) or, when
// the stream cannot be opened at all, queued and polled (POST /api/prompts/ai-chat-stream,
// then GET /api/ai-stream/{task_id}?since=). Both hand the page the same frames:
// { kind: "status" | "token" | "tool_call" | "error" | "done", data }.

import { ApiFailure, get, post, postStream } from "./api.js";
import { readEvents } from "./sse.js";

const POLL_MS = 400;

function eventFrame(event) {
  return { kind: event.event, data: event.event === "done" ? null : JSON.parse(event.data) };
}

// A polled chunk is a frame: a token's text is its content, the others carry the
// frame's data as metadata (docs/ASSISTANT.md, Polling).
function chunkFrame(chunk) {
  if (chunk.kind === "token") return { kind: "token", data: { content: chunk.content } };
  if (chunk.kind === "done") return { kind: "done", data: null };
  return { kind: chunk.kind, data: chunk.metadata };
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function polled(body, onFrame, signal) {
  const { task_id: taskId } = await post("/api/prompts/ai-chat-stream", body);
  let cursor = 0;
  while (!signal?.aborted) {
    const page = await get(`/api/ai-stream/${encodeURIComponent(taskId)}?since=${cursor}`);
    for (const chunk of page.chunks) onFrame(chunkFrame(chunk));
    cursor = page.next_cursor;
    if (page.is_done) return;
    await pause(POLL_MS);
  }
}

// Resolves with how the answer came ("stream" or "polling"). A refusal of the API (a 429
// past a limit, a 403) throws its ApiFailure; it is not retried by polling.
export async function chatTurn(body, onFrame, { signal, onFallback } = {}) {
  let response = null;
  try {
    response = await postStream("/api/hyper-ai/chat", body, signal);
  } catch (error) {
    if (error instanceof ApiFailure || signal?.aborted) throw error;
    // The connection failed before any answer (e.g. a proxy that refuses to stream):
    // the turn is sent again by the route that needs no open stream.
  }
  if (response) {
    await readEvents(response, (event) => onFrame(eventFrame(event)));
    return "stream";
  }
  if (onFallback) onFallback();
  await polled(body, onFrame, signal);
  return "polling";
}
