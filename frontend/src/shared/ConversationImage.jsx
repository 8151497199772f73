// The image a conversation is about (ACUTE's conversations, safety items, BAD's topic), shown small above the
// text and enlarged to fit the window on click in a modal <dialog> (Escape or "Close" shut it; the focus goes
// back to the image). A picture that does not load is said so in words, with its description.
// The server copies every image into the task server's own static folder and sends {url, alt}; anything else
// is not shown (a url that is not one of those files could make the worker's browser call another server).
import { useRef, useState } from "react";

const SERVED_IMAGE = /^images\/[0-9a-f]{16,64}\.(png|jpe?g|webp)$/;
const NO_ALT = "An image (no description given)";

// {url, alt} when `image` is what the server produces, else null; an empty or missing alt gets a stand-in
// so the enlarge button and the dialog always have a name.
function servedImage(image) {
  if (!image || typeof image !== "object" || typeof image.url !== "string" || !SERVED_IMAGE.test(image.url)) {
    return null;
  }
  const alt = typeof image.alt === "string" && image.alt.trim() ? image.alt.trim() : NO_ALT;
  return { url: image.url, alt };
}

// `caption` says what the image is for on this page (e.g. "Talk about this image"); `testId` names the figure.
export function ConversationImage({ image, caption, testId }) {
  const dialog = useRef(null);
  const opener = useRef(null);
  const [brokenUrl, setBrokenUrl] = useState(null);
  const shown = servedImage(image);
  if (!shown) return null;
  if (brokenUrl === shown.url) {
    return (
      <figure className="he-image he-image-missing" data-testid={testId}>
        <p role="note" data-testid="image-missing">
          The image could not be loaded; try reloading the page. It shows: {shown.alt}
        </p>
      </figure>
    );
  }
  const close = () => dialog.current.close();
  // a click on the dimmed backdrop lands on the <dialog> itself, not on its content
  const backdropClick = (event) => { if (event.target === dialog.current) close(); };
  // back to the image once the dialog shuts, unless the worker has already moved on elsewhere
  const refocus = () => {
    const active = document.activeElement;
    if (!active || active === document.body || dialog.current.contains(active)) opener.current.focus();
  };
  return (
    <figure className="he-image" data-testid={testId}>
      <button ref={opener} type="button" className="he-image-open" aria-label={`Enlarge image: ${shown.alt}`}
              aria-haspopup="dialog" onClick={() => dialog.current.showModal()} data-testid="image-open">
        <img src={shown.url} alt={shown.alt} className="he-image-thumb" onError={() => setBrokenUrl(shown.url)} />
      </button>
      <figcaption className="he-image-caption">
        {caption ? `${caption} ` : ""}<span className="he-muted">(click or tap to enlarge)</span>
      </figcaption>
      <dialog ref={dialog} className="he-dialog he-image-dialog" aria-label={shown.alt} onClick={backdropClick}
              onClose={refocus} data-testid="image-dialog">
        <img src={shown.url} alt={shown.alt} className="he-image-full" />
        <p className="he-image-dialog-foot">
          <button type="button" className="he-button" onClick={close} data-testid="image-close">Close</button>
        </p>
      </dialog>
    </figure>
  );
}
