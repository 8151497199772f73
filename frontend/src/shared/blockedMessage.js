// What a worker reads when Mephisto turns them away. Mephisto's router answers with its own sentence
// (`failure_reason`, from WorkerFailureReasons in mephisto/operations/datatypes.py), which
// mephisto-task hands us as `blockedExplanation`. Its "not qualified" sentence is what a worker who
// failed this task's practice, quiz or gold checks gets (and whoever holds the task's soft-block
// qualification), so we say that in plain words instead. Anything else is shown as Mephisto wrote it,
// always as text, never as HTML.

// Must equal WorkerFailureReasons.NOT_QUALIFIED (tests/crowd/test_blocked_page.py checks it).
export const MEPHISTO_NOT_QUALIFIED = "You are not currently qualified to work on this task...";

export const CLOSED_TO_YOU =
  "You did not pass this task's qualification, so this task is closed to you. Thank you for your time.";

// The message for a blocked page, and whether it is our "closed to you" one.
export function blockedMessage(explanation) {
  if (explanation === MEPHISTO_NOT_QUALIFIED) {
    return { text: CLOSED_TO_YOU, closed: true };
  }
  return { text: explanation || "You cannot work on this task.", closed: false };
}
