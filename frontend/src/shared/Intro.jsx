// What a worker learns before the work (humaneval.crowd.page_intro, sent as taskConfig.intro): what the task
// is, time and pay, a content warning where they may read or write unsafe text, how to stop, whom to ask.
// The preview shows all of it; the task page keeps the warning in view and the rest one click away.

function Facts({ intro }) {
  return (
    <dl className="he-facts">
      {intro.minutes && <><dt>Time</dt><dd data-testid="intro-minutes">{intro.minutes}</dd></>}
      {intro.pay && <><dt>Pay</dt><dd data-testid="intro-pay">{intro.pay}</dd></>}
      {intro.stop && <><dt>Stopping</dt><dd>{intro.stop}</dd></>}
      {intro.contact && <><dt>Questions</dt><dd data-testid="intro-contact">{intro.contact}</dd></>}
    </dl>
  );
}

function Warning({ text }) {
  return text ? <p className="he-warning" role="note" data-testid="content-warning"><strong>Content warning:</strong> {text}</p> : null;
}

export function IntroPreview({ intro, fallback }) {
  if (!intro) return fallback;
  return (
    <section aria-labelledby="he-intro-title" data-testid="intro">
      <h1 id="he-intro-title" className="he-title">{intro.title}</h1>
      {intro.description && <p>{intro.description}</p>}
      <Warning text={intro.content_warning} />
      <Facts intro={intro} />
    </section>
  );
}

// Above the task: the warning in view, the instructions one button away, the rest folded.
export function IntroBar({ intro, instructions }) {
  if (!intro) return <div className="he-intro-bar-plain">{instructions}</div>;
  return (
    <div className="he-card he-intro-bar">
      <Warning text={intro.content_warning} />
      {instructions}
      <details>
        <summary>About this task: time, pay, how to stop</summary>
        {intro.description && <p>{intro.description}</p>}
        <Facts intro={intro} />
      </details>
    </div>
  );
}
