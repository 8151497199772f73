/* The Prolific side of a task page (Mephisto copies this file next to the page as wrap_crowd_source.js).
 *
 * In: Prolific opens our study URL with ?PROLIFIC_PID=...&STUDY_ID=...&SESSION_ID=...; the participant
 * is the worker, the session (Prolific's submission id) is the assignment. A page without them is a
 * preview.
 * Out: after our server has the submission, the participant is sent to Prolific's completion URL with
 * the run's code (Prolific completes a submission by redirect only). The page learns that URL from its
 * task config (`completion_url`, set by the provider), which TaskShell copies to COMPLETION_URL below.
 */

function prolificParam(name) {
  var value = new URLSearchParams(window.location.search).get(name);
  return value && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : null;
}

function getWorkerName() {
  return prolificParam("PROLIFIC_PID");
}

function getAssignmentId() {
  return prolificParam("SESSION_ID");
}

function getAgentRegistration() {
  return {
    worker_name: getWorkerName(),
    agent_registration_id: getAssignmentId(),
    assignment_id: getAssignmentId(),
    study_id: prolificParam("STUDY_ID"),
    provider_type: "prolific",
  };
}

function handleSubmitToProvider(task_data) {
  var url = window._MEPHISTO_CONFIG_.COMPLETION_URL;
  if (typeof url === "string" && /^https?:\/\//.test(url)) {
    window.location.assign(url);
    return true;
  }
  return false;
}

(function () {
  var listeners = {};
  var config = (window._MEPHISTO_CONFIG_ = window._MEPHISTO_CONFIG_ || {});
  config.EVENT_EMITTER = {
    emit: function (name, value) {
      (listeners[name] || []).forEach(function (listener) { listener(value); });
    },
    on: function (name, listener) {
      (listeners[name] = listeners[name] || []).push(listener);
      return function () {
        listeners[name] = (listeners[name] || []).filter(function (l) { return l !== listener; });
      };
    },
  };
  config.get = function (property) {
    if (!(property in config)) throw new Error(property + " does not exist in window._MEPHISTO_CONFIG_");
    return config[property];
  };
  config.set = function (property, value) {
    config[property] = value;
    config.EVENT_EMITTER.emit(property, value);
  };
  config.AUTO_SUBMIT_ERRORS = false;
  config.ADD_ERROR_HANDLING = false;
  config.ERROR_REPORT_TO_EMAIL = null;
})();
