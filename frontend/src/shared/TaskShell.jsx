// The states every Mephisto task page goes through before showing its task: preview, loading,
// blocked, and after submission. Task pages render only their own content inside it.
import { useEffect } from "react";
import { blockedMessage } from "./blockedMessage.js";
import { IntroBar, IntroPreview } from "./Intro.jsx";
import { InstructionsDialog } from "./InstructionsDialog.jsx";
import "./base.css";

// A crowd provider that completes work by redirect (Prolific) puts the address in the task config;
// its wrap_crowd_source.js reads it from here when the page has submitted.
function useCompletionUrl(taskConfig) {
  const url = taskConfig ? taskConfig.completion_url : undefined;
  useEffect(() => {
    if (typeof url === "string" && window._MEPHISTO_CONFIG_) {
      window._MEPHISTO_CONFIG_.COMPLETION_URL = url;
    }
  }, [url]);
}

// The tab's title names the task: the study's task_title (taskConfig.intro), else the page's own `title`
// (the HTML is shared by every task). `preview` is shown only when the launch sent no intro.
export function TaskShell({ mephisto, title, preview, instructions, children }) {
  const { isPreview, isLoading, blockedReason, blockedExplanation } = mephisto;
  useCompletionUrl(mephisto.taskConfig);
  const intro = mephisto.taskConfig && mephisto.taskConfig.intro ? mephisto.taskConfig.intro : null;
  const shownTitle = (intro && intro.title) || title;
  useEffect(() => { if (shownTitle) document.title = shownTitle; }, [shownTitle]);
  if (blockedReason !== null && blockedReason !== undefined) {
    const { text, closed } = blockedMessage(blockedExplanation);
    return (
      <main className="he-page">
        <div className={closed ? "he-card he-closed" : "he-card he-error"} role="alert" data-testid="blocked">{text}</div>
      </main>
    );
  }
  if (isPreview) {
    return <main className="he-page"><div className="he-card"><IntroPreview intro={intro} fallback={preview} /></div></main>;
  }
  if (isLoading) {
    return <main className="he-page"><div className="he-card he-muted" aria-busy="true">Loading…</div></main>;
  }
  return (
    <main className="he-page">
      <IntroBar intro={intro} instructions={<InstructionsDialog>{instructions}</InstructionsDialog>} />
      {children}
    </main>
  );
}

export function SubmittedNotice() {
  const config = window._MEPHISTO_CONFIG_ || {};
  const completionUrl = typeof config.COMPLETION_URL === "string" && /^https?:\/\//.test(config.COMPLETION_URL)
    ? config.COMPLETION_URL : null;
  if (completionUrl) {  // the provider completes the work by redirect: closing now would lose it there
    return (
      <div className="he-card" role="status" data-testid="submitted">
        Thank you, your work was submitted. Taking you back to complete your submission… If nothing happens,{" "}
        <a href={completionUrl}>continue here</a>; do not close this page before you have.
      </div>
    );
  }
  return (
    <div className="he-card" role="status" data-testid="submitted">
      Thank you, your work was submitted. You can close this page.
    </div>
  );
}
