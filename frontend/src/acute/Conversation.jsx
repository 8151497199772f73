// One conversation of a comparison: its image if it is about one, its context lines, then its turns. The
// evaluated speaker's turns carry the side's label and colour; the partner's are neutral. Every text is a React
// child, so markup in a chat log is shown as the literal characters a model produced, never interpreted.
import { ConversationImage } from "../shared/ConversationImage.jsx";

export function Conversation({ conversation, side }) {
  return (
    <section className={`acute-conversation acute-${side}`} aria-label={`${conversation.label}'s conversation`}
             data-testid={`conversation-${side}`}>
      <h2 className="acute-conversation-title">
        <span className="acute-swatch" aria-hidden="true" /> {conversation.label}
      </h2>
      <ConversationImage image={conversation.image} caption="This conversation is about this image."
                         testId={`image-${side}`} />
      {conversation.context.length > 0 && (
        <div className="acute-context" data-testid={`context-${side}`}>
          {conversation.context.map((line, i) => <p key={i}>{line}</p>)}
        </div>
      )}
      <ol className="acute-turns">
        {conversation.turns.map((turn, i) => (
          <li key={i} className={turn.role === "evaluated" ? "acute-turn acute-evaluated" : "acute-turn acute-other"}>
            <span className="acute-speaker">{turn.role === "evaluated" ? conversation.label : "Partner"}</span>
            <span className="acute-text">{turn.text}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
