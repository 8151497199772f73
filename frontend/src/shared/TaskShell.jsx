// The states every Mephisto task page goes through before showing its task: preview, loading,
// blocked, and after submission. Task pages render only their own content inside it.
import "./base.css";

export function TaskShell({ mephisto, preview, children }) {
  const { isPreview, isLoading, blockedReason, blockedExplanation } = mephisto;
  if (blockedReason !== null && blockedReason !== undefined) {
    return (
      <main className="he-page">
        <div className="he-card he-error" role="alert">{blockedExplanation || "You cannot work on this task."}</div>
      </main>
    );
  }
  if (isPreview) {
    return <main className="he-page"><div className="he-card">{preview}</div></main>;
  }
  if (isLoading) {
    return <main className="he-page"><div className="he-card he-muted" aria-busy="true">Loading…</div></main>;
  }
  return <main className="he-page">{children}</main>;
}

export function SubmittedNotice() {
  return (
    <div className="he-card" role="status" data-testid="submitted">
      Thank you, your work was submitted. You can close this page.
    </div>
  );
}
