import { anyBody, defineScroll } from './define.js';

export const automation = defineScroll({
  name: 'automation',
  title: 'Automation',
  engineId: 'engine:automation',
  description: 'Workflow registrations, executions, schedules, triggers and approvals.',
  file: 'receipts/automation/automation_events.jsonl',
  rootFile: 'ROOT.automation.txt',
  types: [
    { type: 'auto_workflow_register', description: 'A workflow was registered.', body: anyBody },
    { type: 'auto_workflow_execute', description: 'A workflow execution started.', body: anyBody },
    { type: 'auto_workflow_complete', description: 'A workflow execution completed.', body: anyBody },
    { type: 'auto_schedule_create', description: 'A schedule was created.', body: anyBody },
    { type: 'auto_trigger_fire', description: 'A trigger fired.', body: anyBody },
    { type: 'auto_approval_request', description: 'An approval was requested.', body: anyBody },
    { type: 'auto_approval_decision', description: 'An approval was decided.', body: anyBody },
  ],
});
