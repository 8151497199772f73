// A static task page whose practice (onboarding) asks the server about each answer: right or wrong,
// and why. The right answers never reach the page (a qualification must not hand them out), so the
// practice opens a live connection and sends one request per answer (`check_practice_answer`, served
// by humaneval/crowd/practice_checks.py); the server keeps the first answer to each item, which is
// the one scored. The task's units stay static: the connection is opened only while onboarding, and
// closed as soon as the practice is over.
import { useCallback, useEffect, useRef } from "react";
import { useMephistoLiveTask } from "mephisto-task";

// Shared with BAD's quiz, which asks through Mephisto's remote procedures instead (bad/Onboarding.jsx).
export const PRACTICE_CHECK = "check_practice_answer";
export const NO_ANSWER_MS = 15000; // after this the page goes on without feedback rather than leave the worker stuck

// The server's verdict `{item, answer, correct, feedback}`, or null for anything else (a refusal's `{error}`).
export function readVerdict(response) {
  return response && typeof response.correct === "boolean" && typeof response.feedback === "string"
    && typeof response.answer === "string" ? response : null;
}

let requestCount = 0;
const newRequestId = () => `practice-${Date.now()}-${++requestCount}-${Math.random().toString(36).slice(2)}`;

// The page's Mephisto state (as useMephistoTask gives it) plus `checkPractice(item, answer)`, a promise
// of the server's verdict `{correct, feedback, answer}`, or of null when no verdict came (disconnected,
// refused, or no answer in time): the page then goes on without feedback.
export function useTaskWithPracticeChecks() {
  const waiting = useRef({});
  const mephisto = useMephistoLiveTask({
    onLiveUpdate: (update) => {
      const resolve = waiting.current[update.handles];
      if (!resolve) return;
      delete waiting.current[update.handles];
      let response = null;
      try {
        response = JSON.parse(update.response);
      } catch (err) {
        response = null;
      }
      resolve(readVerdict(response));
    },
  });
  const { agentId, isOnboarding, connect, destroy, sendLiveUpdate, ...task } = mephisto;
  // this onboarding's secret (in its page data only): the server records nothing without it
  const token = task.initialTaskData ? task.initialTaskData.practice_token : undefined;

  const connected = useRef(false);
  useEffect(() => {
    if (agentId && isOnboarding && !connected.current) {
      connected.current = true;
      connect(agentId);
    } else if (connected.current && !isOnboarding) {
      connected.current = false;
      destroy();
    }
  }, [agentId, isOnboarding]);

  const checkPractice = useCallback((item, answer) => new Promise((resolve) => {
    const requestId = newRequestId();
    waiting.current[requestId] = resolve;
    window.setTimeout(() => {
      if (waiting.current[requestId]) {
        delete waiting.current[requestId];
        resolve(null);
      }
    }, NO_ANSWER_MS);
    sendLiveUpdate({ request_id: requestId, target: PRACTICE_CHECK, args: JSON.stringify({ item, answer, token }) });
  }), [sendLiveUpdate, token]);

  return { ...task, agentId, isOnboarding, checkPractice };
}
