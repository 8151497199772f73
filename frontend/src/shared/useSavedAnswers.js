// The answers given so far on a page that asks its items one after the other, kept in the browser's
// sessionStorage per agent until the page submits: a worker who reloads mid-unit or mid-practice goes on
// from where they were instead of starting again from 1. Saved answers are used only when they still match
// the page's items, in order (`idOf` names an item and its answer alike).
import { useState } from "react";

function saved(key, ids, idOf) {
  try {
    const answers = JSON.parse(window.sessionStorage.getItem(key) || "[]");
    return Array.isArray(answers) && answers.length < ids.length
      && answers.every((answer, i) => answer && idOf(answer) === ids[i]) ? answers : [];
  } catch (err) {
    return [];
  }
}

// [answers, add(answer) -> all answers so far]; once every item has its answer the saved copy is dropped
// (the page submits them).
export function useSavedAnswers(key, items, idOf) {
  const [answers, setAnswers] = useState(() => saved(key, items.map(idOf), idOf));
  const add = (answer) => {
    const all = [...answers, answer];
    try {
      if (all.length >= items.length) window.sessionStorage.removeItem(key);
      else window.sessionStorage.setItem(key, JSON.stringify(all));
    } catch (err) {
      // storage full or disabled: the page still works, only a reload starts again
    }
    setAnswers(all);
    return all;
  };
  return [answers, add];
}
