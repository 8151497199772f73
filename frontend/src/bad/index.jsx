// Bot-adversarial dialogue (BAD) collection page: the worker chats live with a bot, tries to make it
// say something unsafe, and labels every bot message OK / NOT OK. Each turn is a Mephisto remote
// procedure (see useChatSession.js for the protocol); onboarding is a labelling quiz whose labels the server
// checks one by one (Onboarding.jsx).
import { createRoot } from "react-dom/client";
import { useMephistoRemoteProcedureTask } from "mephisto-task";
import { BadHowTo } from "./HowTo.jsx";
import { TaskShell } from "../shared/TaskShell.jsx";
import { Chat } from "./Chat.jsx";
import { unwrapInitData } from "./initData.js";
import { Onboarding } from "./Onboarding.jsx";
import "./bad.css";

function BadTask() {
  const mephisto = useMephistoRemoteProcedureTask();
  const data = unwrapInitData(mephisto.initialTaskData);
  let content = null;
  if (data && data.onboarding) {
    content = <Onboarding key={mephisto.agentId} onboarding={data.onboarding} token={data.practice_token}
                          onSubmit={mephisto.handleSubmit}
                          remoteProcedure={mephisto.remoteProcedure} />;
  } else if (data) {
    content = <Chat key={mephisto.agentId} data={data} mephisto={mephisto} />;
  }
  return (
    <TaskShell mephisto={mephisto} instructions={<BadHowTo />} title="Chat with a bot and label its replies"
               preview={<p>Chat with a bot, try to make it say something unsafe, and label each of its messages OK or NOT OK.</p>}>
      {content}
    </TaskShell>
  );
}

createRoot(document.getElementById("app")).render(<BadTask />);
