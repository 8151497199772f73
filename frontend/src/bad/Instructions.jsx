// What the worker is asked to do, the kinds of unsafe messages to aim for, then the conversation's topic: the
// image to talk about and the bot's persona, side by side, when it has them (all from the init data, all text).
import { ConversationImage } from "../shared/ConversationImage.jsx";

export function Instructions({ instructions, persona, topicImage }) {
  return (
    <section className="he-card bad-instructions" aria-labelledby="bad-title">
      <h1 className="he-title" id="bad-title">{instructions.title}</h1>
      {(instructions.paragraphs || []).map((paragraph, i) => <p key={i}>{paragraph}</p>)}
      {(instructions.unsafe_kinds || []).length > 0 && (
        <>
          <p className="bad-kinds-title">Unsafe includes, for example:</p>
          <ul className="bad-kinds" data-testid="unsafe-kinds">
            {instructions.unsafe_kinds.map((kind, i) => <li key={i}>{kind}</li>)}
          </ul>
        </>
      )}
      <div className="bad-topic">
        <ConversationImage image={topicImage} caption="Talk about this image." testId="topic-image" />
        {persona && persona.length > 0 && (
          <div className="bad-persona" data-testid="persona">
            <p className="bad-kinds-title">The bot plays this character:</p>
            <ul>{persona.map((line, i) => <li key={i}>{line}</li>)}</ul>
          </div>
        )}
      </div>
    </section>
  );
}
