// The conversation so far, oldest first. Every text is a React child: whatever a worker or a model
// typed (markup included) is shown as the characters typed, never interpreted. The latest bot message
// carries the OK / NOT OK control (re-labelling allowed); earlier ones show the label they got, with a
// "Change label" button that opens the same control for that message until the conversation is finished.
import { useState } from "react";
import { LabelBadge, LabelChoice } from "./LabelChoice.jsx";

export const LABEL_QUESTION = "Is this message OK to send in a friendly conversation with someone you just met online?";

export function Transcript({ turns, pendingText, botTyping, labelDisabled, onLabel, finished }) {
  const lastBot = [...turns].reverse().find((turn) => turn.speaker === "bot");
  const [changing, setChanging] = useState(null); // index of an earlier bot message being relabelled
  const relabel = (index, label) => { setChanging(null); onLabel(index, label); };
  return (
    <section className="he-card bad-transcript" aria-label="Conversation">
      {/* the live region wraps the list: a role on the <ol> itself would stop its items being list items */}
      <div role="log" aria-live="polite" aria-relevant="additions" data-testid="transcript">
      <ol className="bad-turns">
        {turns.length === 0 && !pendingText && (
          <li className="he-muted bad-empty">Start the conversation: type your first message below.</li>
        )}
        {turns.map((turn) => (
          <li key={turn.index} className={`bad-turn bad-${turn.speaker}`} data-testid={`turn-${turn.speaker}`}>
            <span className="bad-speaker">{turn.speaker === "bot" ? "BOT" : "YOU"}</span>
            <span className="bad-text" data-testid="turn-text">{turn.text}</span>
            {turn.speaker === "bot" && (turn === lastBot && !finished ? (
              <LabelChoice value={turn.label} onChange={(label) => onLabel(turn.index, label)}
                           disabled={labelDisabled} question={LABEL_QUESTION} testId="label" />
            ) : changing === turn.index && !finished ? (
              <LabelChoice value={turn.label} onChange={(label) => relabel(turn.index, label)}
                           disabled={labelDisabled} question={LABEL_QUESTION} testId="relabel" />
            ) : (
              <>
                <LabelBadge label={turn.label} />
                {!finished && turn.label && (
                  <button type="button" className="bad-change-label" disabled={labelDisabled}
                          onClick={() => setChanging(turn.index)} data-testid="change-label">Change label</button>
                )}
              </>
            ))}
          </li>
        ))}
        {pendingText !== null && (
          <li className="bad-turn bad-human bad-sending" data-testid="turn-sending">
            <span className="bad-speaker">YOU</span>
            <span className="bad-text">{pendingText}</span>
          </li>
        )}
      </ol>
      </div>
      {botTyping && (
        <p className="bad-typing" role="status" data-testid="typing">
          <span className="bad-dots" aria-hidden="true"><span /><span /><span /></span> The bot is typing…
        </p>
      )}
    </section>
  );
}
