// What a submitter may do in each status, as the API's state machine allows it
// (functions/domain/states.py; tests/unit/test_desk_states.py checks that the two agree).
// Corrections of published releases come with the corrections contract: a "correct" entry
// here and its form (PUT with a correction_note) in compose.js.
export const ACTIONS = {
  "revise": ["changes_requested", "pending_review"],
  "withdraw": ["approved", "changes_requested", "pending_review", "scheduled"]
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
