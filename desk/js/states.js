// What a submitter may do in each status, as the API's state machine allows it
// (functions/domain/states.py; tests/unit/test_desk_states.py checks that the two agree).
// "correct" is a PUT with a correction_note of a published release (or of its correction while
// that is under review or sent back): its form is compose.js's "correct" mode.
export const ACTIONS = {
  "revise": ["changes_requested", "pending_review"],
  "withdraw": ["approved", "changes_requested", "pending_review", "scheduled"],
  "correct": ["correction_changes_requested", "correction_review", "published"]
};

export const STATUS_LABELS = {
  pending_review: "Pending review",
  changes_requested: "Changes requested",
  approved: "Approved",
  scheduled: "Scheduled",
  published: "Published",
  correction_review: "Correction in review",
  correction_changes_requested: "Correction: changes requested",
  correction_approved: "Correction approved",
  rejected: "Rejected",
  withdrawn: "Withdrawn",
  killed: "Taken down",
};

export const DECISION_LABELS = {
  approve: "Approved",
  reject: "Rejected",
  request_changes: "Changes requested",
  kill: "Taken down",
};

export function can(action, status) {
  return (ACTIONS[action] || []).includes(status);
}

export function statusLabel(status) {
  return STATUS_LABELS[status] || status;
}
