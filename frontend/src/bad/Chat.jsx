// The live chat: instructions, the transcript with per-message labels, the message box, and the
// final rating once the server says the conversation can finish. Everything shown comes from the
// last ChatView the server returned.
import { useRef, useState } from "react";
import { SubmittedNotice } from "../shared/TaskShell.jsx";
import { ErrorNotice } from "./ErrorNotice.jsx";
import { FinishForm } from "./FinishForm.jsx";
import { Instructions } from "./Instructions.jsx";
import { MessageBox } from "./MessageBox.jsx";
import { Transcript } from "./Transcript.jsx";
import { useChatSession } from "./useChatSession.js";

const BOT_CALLS = ["send_message", "retry_bot"];

// Why Send is disabled right now, in words the worker can act on (null: it is not).
function sendBlockedReason(view, pending) {
  if (view.finished) return "The conversation is finished.";
  if (BOT_CALLS.includes(pending)) return "Wait for the bot's answer.";
  if (view.awaiting_bot) return "The bot has not answered your last message: press Retry.";
  if (view.needs_label !== null && view.needs_label !== undefined)
    return "Label the bot's last message (OK or NOT OK) before you send your next one.";
  if (pending) return "Saving…";
  return null;
}

export function Chat({ data, mephisto }) {
  const session = useChatSession(mephisto);
  const [submitted, setSubmitted] = useState(false);
  const messageRef = useRef(null);
  const { view, pending } = session;
  if (submitted) return <SubmittedNotice />;
  const label = (turnIndex, value) => session.label(turnIndex, value).then((response) => {
    if (response && response.ok && messageRef.current) messageRef.current.focus();
  });
  const finish = (answers) => {
    setSubmitted(true);
    mephisto.handleSubmit(answers);
  };
  return (
    <div className="bad-chat">
      <Instructions instructions={data.instructions} persona={data.persona} topicImage={data.topic_image} />
      {view === null ? (
        <div className="he-card he-muted" aria-busy="true" data-testid="chat-loading">Loading the conversation…</div>
      ) : (
        <>
          <p className="bad-progress" data-testid="counter" aria-live="polite">
            {view.human_turns < view.min_turns
              ? `${view.human_turns} of ${view.min_turns} messages`
              : `${view.human_turns} message${view.human_turns === 1 ? "" : "s"} — you can finish below, or keep chatting`}
          </p>
          <Transcript turns={view.turns} pendingText={session.pendingText}
                      botTyping={BOT_CALLS.includes(pending)} labelDisabled={pending !== null}
                      onLabel={label} finished={view.finished} />
        </>
      )}
      <ErrorNotice error={session.error} canRetry={!!(view && view.awaiting_bot) && !BOT_CALLS.includes(pending)}
                   onRetry={session.retry} busy={pending !== null}
                   stalled={session.stalled} onRefresh={session.refresh} />
      {view !== null && !view.finished && (
        <MessageBox blockedReason={sendBlockedReason(view, pending)} maxChars={data.max_message_chars}
                    onSend={session.send} inputRef={messageRef} />
      )}
      {view !== null && view.can_finish && (
        <FinishForm question={data.rating_question} anchors={data.rating_anchors} onSubmit={finish} />
      )}
    </div>
  );
}
