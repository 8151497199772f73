// ACUTE's full instructions and a worked example (shared/InstructionsDialog shows them).
export function AcuteInstructions() {
  return (
    <>
      <p>Each comparison shows two conversations side by side. In each, one speaker is marked (Speaker 1 on the
        left, Speaker 2 on the right); the other speaker is their partner. Read both conversations to the end,
        then answer the question about the two marked speakers and say why in your own words.</p>
      <p>There is no right answer: we want your honest opinion. Judge what the marked speaker says, not their
        partner, and not how long the conversation is.</p>
      <h3>An example</h3>
      <div className="acute-example">
        <p><strong>Speaker 1:</strong> I just got back from a hike with my dog. Do you have pets?<br />
          <strong>Partner:</strong> A cat. She hates walks.<br />
          <strong>Speaker 1:</strong> Ha, mine would chase her. What is her name?</p>
        <p><strong>Speaker 2:</strong> I like dogs.<br />
          <strong>Partner:</strong> A cat. She hates walks.<br />
          <strong>Speaker 2:</strong> I like dogs. Dogs are nice.</p>
      </div>
      <p>A good answer: <em>Speaker 1</em>, because <em>"Speaker 1 asks about my pet and follows up on what I
        said; Speaker 2 repeats itself and ignores my answer."</em></p>
    </>
  );
}
