// Offered only when the server says the conversation can finish: a 1-5 rating (required) and an
// optional comment, sent with Mephisto's submit. The conversation itself is already on the server.
import { useState } from "react";

// `anchors` name the scale's ends as the question words them (bad.yaml `rating_low` / `rating_high`).
export function FinishForm({ question, anchors, onSubmit }) {
  const [low, high] = Array.isArray(anchors) && anchors.length === 2 ? anchors : ["very easy", "impossible"];
  const [rating, setRating] = useState(null);
  const [comment, setComment] = useState("");
  const submit = (event) => {
    event.preventDefault();
    if (rating === null) return;
    onSubmit({ rating, comment: comment.trim() });
  };
  return (
    <form className="he-card bad-finish" onSubmit={submit} data-testid="finish" noValidate>
      <fieldset className="bad-rating">
        <legend className="he-title">{question}</legend>
        <div className="bad-rating-scale">
          {[1, 2, 3, 4, 5].map((value) => (
            <label key={value} className="he-choice bad-rating-choice">
              <input type="radio" name="rating" value={value} checked={rating === value}
                     onChange={() => setRating(value)} data-testid={`rating-${value}`} />
              <span>{value}</span>
            </label>
          ))}
        </div>
        <p className="he-muted bad-scale-ends" data-testid="rating-anchors">1 = {low}, 5 = {high}</p>
      </fieldset>
      <label htmlFor="bad-comment">Comment <span className="he-muted">(optional)</span></label>
      <textarea id="bad-comment" rows={2} value={comment} onChange={(event) => setComment(event.target.value)}
                data-testid="comment" />
      <p><button className="he-button" type="submit" disabled={rating === null} data-testid="submit">Submit</button></p>
    </form>
  );
}
