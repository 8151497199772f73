// The full instructions of a task, with one worked example, reachable at any moment from the bar above the
// task: a button opens them in a modal <dialog> (Escape or "Close" returns to the work, which is kept).
import { useRef } from "react";

export function InstructionsDialog({ children }) {
  const dialog = useRef(null);
  if (!children) return null;
  return (
    <>
      <button type="button" className="he-link-button" onClick={() => dialog.current.showModal()}
              data-testid="open-instructions">Instructions</button>
      <dialog ref={dialog} className="he-dialog" aria-labelledby="he-instructions-title" data-testid="instructions">
        <h2 id="he-instructions-title" className="he-title">Instructions</h2>
        {children}
        <p><button type="button" className="he-button" onClick={() => dialog.current.close()}
                   data-testid="close-instructions">Close</button></p>
      </dialog>
    </>
  );
}
