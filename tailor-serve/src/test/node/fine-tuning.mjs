// The official openai client against tailor serve's files and fine-tuning API, as a tenant would use it: uploads,
// lists and retrieves files, creates a job (with Tailor's training extension), lists jobs, waits for the job, lists
// its events and checkpoints page by page, cancels a second job, and chats with the fine-tuned model and the base.
// Prints one JSON object of what it saw; OpenAiNodeClientTest checks it.
// Environment: TAILOR_URL (http://HOST:PORT), TAILOR_KEY (the tenant's key), TRAINING and VALIDATION (JSON Lines).
import fs from 'node:fs';
import OpenAI from 'openai';

const client = new OpenAI({ apiKey: process.env.TAILOR_KEY, baseURL: `${process.env.TAILOR_URL}/v1`, maxRetries: 0 });
const out = {};

const training = await client.files.create({ file: fs.createReadStream(process.env.TRAINING), purpose: 'fine-tune' });
const validation = await client.files.create({ file: fs.createReadStream(process.env.VALIDATION), purpose: 'fine-tune' });
out.uploaded = [training.id, validation.id];
out.training_bytes = training.bytes;
out.files = [];
for await (const f of client.files.list()) {
  out.files.push(f.id);
}
out.retrieved_filename = (await client.files.retrieve(training.id)).filename;

const job = await client.fineTuning.jobs.create({
  model: 'tiny',
  training_file: training.id,
  validation_file: validation.id,
  suffix: 'node',
  seed: 11,
  method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2, batch_size: 2, learning_rate_multiplier: 50 } } },
  training: { seq_len: 64, checkpoint_every: 2 },
});
out.job = job.id;
out.created_status = job.status;
out.listed = [];
for await (const j of client.fineTuning.jobs.list({ limit: 1 })) {
  out.listed.push(j.id);
}

let current = job;
const deadline = Date.now() + 120_000;
while (!['succeeded', 'failed', 'cancelled'].includes(current.status)) {
  if (Date.now() > deadline) {
    throw new Error(`job ${job.id} is still ${current.status}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  current = await client.fineTuning.jobs.retrieve(job.id);
}
out.status = current.status;
out.error = current.error;
out.fine_tuned_model = current.fine_tuned_model;
out.trained_tokens = current.trained_tokens;

out.events = [];
for await (const e of client.fineTuning.jobs.listEvents(job.id, { limit: 5 })) {
  out.events.push({ id: e.id, type: e.type, message: e.message, step: e.data?.step ?? null });
}
out.checkpoints = [];
for await (const c of client.fineTuning.jobs.checkpoints.list(job.id, { limit: 2 })) {
  out.checkpoints.push(c.step_number);
}

const second = await client.fineTuning.jobs.create({
  model: 'tiny', training_file: training.id, suffix: 'node-cancelled', training: { seq_len: 64 },
});
out.cancelled = (await client.fineTuning.jobs.cancel(second.id)).status;

const ask = async (model) => (await client.chat.completions.create({
  model, messages: [{ role: 'user', content: 'my order 5 is late' }], max_tokens: 8, temperature: 0,
})).choices[0].message.content;
out.tuned_answer = await ask(current.fine_tuned_model);
out.base_answer = await ask('tiny');

try {
  await client.fineTuning.jobs.retrieve('ftjob-000000000000000000000000');
  out.missing = 200;
} catch (e) {
  out.missing = e.status;
}
console.log(JSON.stringify(out));
