#!/usr/bin/env node
// check_terraform.js TF_DIR IAM_ACTIONS_FILE
//
// Static checks of the terraform tree (terraform itself is not installed
// here): every .tf file parses (@cdktf/hcl2json), the daemon's IAM policy
// grants exactly the (action, resource) pairs of etc/iam-actions.txt and
// the SPEC §1 action list, required variables are validated, the redrive
// policy keeps maxReceiveCount >= 5, the work queue's visibility is tied to
// 6 x the longest job, the buckets and the launch template are hardened.
// Prints one line per failed check and exits 1 if any failed.
'use strict';
const fs = require('fs');
const path = require('path');
const { parse } = require('@cdktf/hcl2json');

const SPEC_ACTIONS = [ // SPEC §1, "IAM permissions they need"
  's3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListBucket',
  'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility',
  'sqs:SendMessage', 'sqs:GetQueueAttributes',
];

const failures = [];
let checks = 0;
function check(ok, what) {
  checks++;
  if (!ok) failures.push(what);
  return ok;
}

function tfFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tfFiles(p));
    else if (e.name.endsWith('.tf')) out.push(p);
  }
  return out.sort();
}

// One terraform module = the .tf files of one directory, merged.
function mergeInto(dst, src) {
  for (const [k, v] of Object.entries(src)) {
    if (Array.isArray(v)) dst[k] = (dst[k] || []).concat(v);
    else if (v && typeof v === 'object') dst[k] = mergeInto(dst[k] || {}, v);
    else dst[k] = v;
  }
  return dst;
}

function first(x) { return Array.isArray(x) ? x[0] : x; }
function blocks(mod, kind, type) { return ((mod[kind] || {})[type]) || {}; }

function readActionsFile(file) {
  const pairs = new Set();
  const actions = [];
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [action, ...kinds] = line.split(/\s+/);
    check(kinds.length > 0, `${file}: ${action} names no resource`);
    actions.push(action);
    for (const k of kinds) pairs.add(`${action} ${k}`);
  }
  return { actions, pairs };
}

// "${aws_s3_bucket.this[\"archive\"].arn}/*" -> "archive/*"
function resourceKind(expr) {
  let m = /^\$\{aws_s3_bucket\.this\["(archive|artifacts)"\]\.arn\}(\/\*)?$/.exec(expr);
  if (m) return m[1] + (m[2] || '');
  m = /^\$\{aws_sqs_queue\.(work|done)\.arn\}$/.exec(expr);
  if (m) return m[1];
  return null;
}

function sameSet(a, b) {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

// Lower bound a variable's validation puts on it: "var.x >= 5" -> 5.
function lowerBound(variable, name) {
  let best = null;
  for (const v of [].concat(variable.validation || [])) {
    const re = new RegExp(`var\\.${name}\\s*>=\\s*(\\d+)`, 'g');
    let m;
    while ((m = re.exec(v.condition || '')) !== null) {
      const n = Number(m[1]);
      if (best === null || n > best) best = n;
    }
  }
  return best;
}

async function main() {
  const [tfDir, actionsFile] = process.argv.slice(2);
  if (!tfDir || !actionsFile) {
    console.error('usage: check_terraform.js TF_DIR IAM_ACTIONS_FILE');
    process.exit(2);
  }
  const modules = {}; // dir -> merged JSON
  const files = tfFiles(tfDir);
  check(files.length > 0, `${tfDir}: no .tf files`);
  for (const f of files) {
    let j = null;
    try {
      j = await parse(f, fs.readFileSync(f, 'utf8'));
    } catch (e) {
      check(false, `${f}: does not parse: ${String(e.message || e).split('\n')[0]}`);
      continue;
    }
    check(j && typeof j === 'object', `${f}: parsed to nothing`);
    modules[path.dirname(f)] = mergeInto(modules[path.dirname(f)] || {}, j);
  }

  // --- every variable without a default has a validation block -------------
  for (const [dir, mod] of Object.entries(modules)) {
    for (const [name, decl] of Object.entries(mod.variable || {})) {
      const v = first(decl);
      if (!('default' in v)) {
        check(v.validation && [].concat(v.validation).length > 0,
          `${dir}: required variable "${name}" has no validation block`);
      }
    }
  }

  // --- the core module -----------------------------------------------------
  const coreDir = path.join(tfDir, 'modules', 'core');
  const core = modules[coreDir];
  if (!check(core, `${coreDir}: missing`)) return report();

  // IAM: exactly the pairs of etc/iam-actions.txt, and the SPEC action list.
  const want = readActionsFile(actionsFile);
  check(sameSet(new Set(want.actions), new Set(SPEC_ACTIONS)) && want.actions.length === SPEC_ACTIONS.length,
    `${actionsFile}: actions [${want.actions}] are not SPEC §1's [${SPEC_ACTIONS}]`);
  const doc = first(blocks(core, 'data', 'aws_iam_policy_document').daemon);
  if (check(doc, 'modules/core: no data.aws_iam_policy_document.daemon')) {
    const got = new Set();
    for (const st of [].concat(doc.statement || [])) {
      const sid = st.sid || '(no sid)';
      check((st.effect || 'Allow') === 'Allow', `policy statement ${sid}: effect is not Allow`);
      check(!st.not_actions && !st.not_resources,
        `policy statement ${sid}: uses not_actions/not_resources`);
      for (const a of st.actions || []) {
        check(!/\*/.test(a), `policy statement ${sid}: wildcard action ${a}`);
        for (const r of st.resources || []) {
          const k = resourceKind(r);
          if (check(k !== null, `policy statement ${sid}: resource ${r} is not one of the module's buckets/queues`)) got.add(`${a} ${k}`);
        }
      }
    }
    const extra = [...got].filter((p) => !want.pairs.has(p));
    const missing = [...want.pairs].filter((p) => !got.has(p));
    check(extra.length === 0, `daemon policy grants more than ${path.basename(actionsFile)}: ${extra.join(', ')}`);
    check(missing.length === 0, `daemon policy lacks: ${missing.join(', ')}`);
  }
  // ... and that document is the role's only policy.
  const rolePolicies = blocks(core, 'resource', 'aws_iam_role_policy');
  check(Object.keys(rolePolicies).length === 1 &&
        /data\.aws_iam_policy_document\.daemon\.json/.test(first(Object.values(rolePolicies)[0]).policy || ''),
  'modules/core: the daemon role must have exactly one inline policy, data.aws_iam_policy_document.daemon');
  for (const [dir, mod] of Object.entries(modules)) {
    for (const t of ['aws_iam_role_policy_attachment', 'aws_iam_policy_attachment', 'aws_iam_policy']) {
      check(Object.keys(blocks(mod, 'resource', t)).length === 0, `${dir}: ${t} would widen the daemon's permissions`);
    }
    for (const [n, r] of Object.entries(blocks(mod, 'resource', 'aws_iam_role'))) {
      check(!('managed_policy_arns' in first(r)) && !('inline_policy' in first(r)), `${dir}: aws_iam_role.${n} carries extra policies`);
    }
  }

  // Queues: redrive with maxReceiveCount >= 5, visibility >= 6 x longest job,
  // messages of at least 64 KiB.
  const queues = blocks(core, 'resource', 'aws_sqs_queue');
  const work = first(queues.work || []);
  const done = first(queues.done || []);
  if (check(work && done && queues.dlq, 'modules/core: need aws_sqs_queue work, done and dlq')) {
    const rp = work.redrive_policy || '';
    check(/deadLetterTargetArn\s*=\s*aws_sqs_queue\.dlq\.arn/.test(rp), 'work queue: redrive target is not the dlq');
    const m = /maxReceiveCount\s*=\s*([A-Za-z0-9_.]+)/.exec(rp);
    if (check(m, 'work queue: redrive_policy has no maxReceiveCount')) {
      const expr = m[1];
      if (/^\d+$/.test(expr)) {
        check(Number(expr) >= 5, `work queue: maxReceiveCount ${expr} < 5`);
      } else {
        const vm = /^var\.(\w+)$/.exec(expr);
        const decl = vm && first((core.variable || {})[vm[1]]);
        if (check(decl, `work queue: maxReceiveCount = ${expr} is neither a number nor a module variable`)) {
          check(!('default' in decl) || decl.default >= 5, `variable ${vm[1]}: default ${decl.default} < 5`);
          const lb = lowerBound(decl, vm[1]);
          check(lb !== null && lb >= 5, `variable ${vm[1]}: validation does not enforce >= 5`);
          for (const [dir, mod] of Object.entries(modules)) { // callers' defaults too
            const d = first((mod.variable || {})[vm[1]]);
            if (d && 'default' in d) check(d.default >= 5, `${dir}: variable ${vm[1]} defaults to ${d.default} < 5`);
          }
        }
      }
    }
    check(/local\.visibility_timeout/.test(work.visibility_timeout_seconds || ''), 'work queue: visibility_timeout_seconds is not local.visibility_timeout');
    const pre = [].concat((first(work.lifecycle || []) || {}).precondition || []);
    check(pre.some((p) => /local\.visibility_timeout\s*>=\s*6\s*\*\s*var\.longest_job_seconds/.test(p.condition || '')),
      'work queue: no precondition visibility >= 6 x longest_job_seconds');
    const lj = first((core.variable || {}).longest_job_seconds);
    check(lj && [].concat(lj.validation || []).length > 0, 'variable longest_job_seconds: no validation');
    for (const [n, q] of [['work', work], ['done', done]]) {
      check(Number(q.max_message_size) >= 65536, `${n} queue: max_message_size ${q.max_message_size} < 64 KiB`);
    }
  }

  // Buckets: versioning, SSE, public access block, owner enforced.
  const res = (t) => blocks(core, 'resource', t);
  const forAll = (r) => r && /aws_s3_bucket\.this/.test(first(r).for_each || '');
  check(forAll(res('aws_s3_bucket_versioning').this) &&
        first(first(res('aws_s3_bucket_versioning').this).versioning_configuration).status === 'Enabled',
  'buckets: versioning not Enabled on every bucket');
  const sse = first(res('aws_s3_bucket_server_side_encryption_configuration').this || []);
  check(forAll(res('aws_s3_bucket_server_side_encryption_configuration').this) &&
        ['AES256', 'aws:kms'].includes(first(first(sse.rule).apply_server_side_encryption_by_default).sse_algorithm),
  'buckets: no default encryption');
  const pab = first(res('aws_s3_bucket_public_access_block').this || []);
  check(forAll(res('aws_s3_bucket_public_access_block').this) &&
        ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'].every((k) => pab[k] === true),
  'buckets: public access not fully blocked');
  const own = first(res('aws_s3_bucket_ownership_controls').this || []);
  check(forAll(res('aws_s3_bucket_ownership_controls').this) && first(own.rule).object_ownership === 'BucketOwnerEnforced',
    'buckets: object ownership is not BucketOwnerEnforced');

  // Optional notification: ObjectCreated under run=, queue policy scoped.
  const notif = first(res('aws_s3_bucket_notification').archive || []);
  if (check(notif, 'modules/core: no aws_s3_bucket_notification.archive')) {
    const q = first(notif.queue);
    check(q && q.events.includes('s3:ObjectCreated:*') && q.filter_prefix === 'run=', 'notification: not ObjectCreated:* under run=');
    const qp = first(blocks(core, 'data', 'aws_iam_policy_document').work_queue_from_s3 || []);
    const st = qp && first(qp.statement);
    const conds = st ? [].concat(st.condition || []).map((c) => c.variable) : [];
    check(st && first(st.principals).identifiers.includes('s3.amazonaws.com') &&
          conds.includes('aws:SourceArn') && conds.includes('aws:SourceAccount') &&
          JSON.stringify(st.actions) === JSON.stringify(['sqs:SendMessage']),
    'notification: queue policy must allow only s3.amazonaws.com SendMessage with aws:SourceArn and aws:SourceAccount');
  }

  // --- the AWS root: IMDSv2-only launch template, ASG ------------------------
  const root = modules[tfDir] || modules[path.resolve(tfDir)];
  if (check(root, `${tfDir}: no root module`)) {
    const lt = first(blocks(root, 'resource', 'aws_launch_template').daemon || []);
    if (check(lt, 'root: no aws_launch_template.daemon')) {
      const md = first(lt.metadata_options || []);
      check(md && md.http_tokens === 'required' && md.http_endpoint === 'enabled', 'launch template: IMDSv2 not required');
      const hop = md && String(md.http_put_response_hop_limit);
      const hv = hop && /^\$\{var\.(\w+)\}$/.exec(hop);
      const hd = hv && first((root.variable || {})[hv[1]]);
      check((hop === '1' || hop === '2') ||
            (hd && [1, 2].includes(hd.default) && /contains\(\[1, 2\]/.test(JSON.stringify(hd.validation))),
      `launch template: hop limit ${hop} not restricted to 1 or 2`);
      check(/user-data\.sh\.tftpl/.test(lt.user_data || '') && /owls_q4_conf/.test(lt.user_data || ''),
        'launch template: user data does not render user-data.sh.tftpl with the config');
      check(/module\.core\.instance_profile_arn/.test(JSON.stringify(lt.iam_instance_profile)), 'launch template: not the daemon instance profile');
    }
    const asg = first(blocks(root, 'resource', 'aws_autoscaling_group').daemon || []);
    check(asg && /aws_launch_template\.daemon/.test(JSON.stringify(asg.launch_template)), 'root: no auto-scaling group on the launch template');
    const outs = Object.keys(root.output || {});
    for (const o of ['work_queue_url', 'done_queue_url', 'archive_bucket', 'artifacts_bucket', 'role_arn']) {
      check(outs.includes(o), `root: no output ${o}`);
    }
  }
  return report();
}

function report() {
  for (const f of failures) console.log(`FAIL: ${f}`);
  console.log(`check_terraform: ${checks - failures.length} passed, ${failures.length} failed`);
  process.exit(failures.length ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
