// The smallest real task: show a prompt, type an answer, submit. It proves the whole path
// (bundle -> router -> Mephisto -> database) in tests and in the sandbox demo of the foundation.
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { useMephistoTask } from "mephisto-task";
import { TaskShell, SubmittedNotice } from "../shared/TaskShell.jsx";

function SmokeTask() {
  const mephisto = useMephistoTask();
  const [answer, setAnswer] = useState("");
  const [submitted, setSubmitted] = useState(false);
  const prompt = mephisto.initialTaskData ? mephisto.initialTaskData.prompt : "";
  const submit = (event) => {
    event.preventDefault();
    if (!answer.trim()) return;
    mephisto.handleSubmit({ answer: answer.trim() });
    setSubmitted(true);
  };
  return (
    <TaskShell mephisto={mephisto} title="One short question" preview={<p>Answer one short question.</p>}>
      {submitted ? (
        <SubmittedNotice />
      ) : (
        <form className="he-card" onSubmit={submit}>
          <h1 className="he-title">Smoke test task</h1>
          <p data-testid="prompt">{prompt}</p>
          <label htmlFor="answer">Your answer</label>
          <input id="answer" type="text" value={answer} onChange={(e) => setAnswer(e.target.value)} />
          <p><button className="he-button" type="submit" disabled={!answer.trim()}>Submit</button></p>
        </form>
      )}
    </TaskShell>
  );
}

createRoot(document.getElementById("app")).render(<SmokeTask />);
