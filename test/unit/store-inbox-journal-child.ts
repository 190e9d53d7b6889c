// Child process for the inbox journal crash test (bundled with esbuild by
// store-inbox-journal.test.ts, then SIGKILLed). It stores the clips listed in argv[3] with the
// background write-out held, printing "added <receipt JSON>" once each add() has resolved (the
// moment the receiver would send that receipt), so the kill lands after the journal append and
// before the clip's own files exist.
import { readFile } from 'node:fs/promises';
import { Inbox } from '../../firmware/store/inbox.js';
import type { InboundClip } from '../../firmware/transport/clip-opener.js';
import type { SignedReceipt } from '../../firmware/transport/receipt.js';

const [dir, listFile] = process.argv.slice(2) as [string, string];
const list = JSON.parse(await readFile(listFile, 'utf8')) as { clip: InboundClip; path: string; receipt: SignedReceipt }[];
const inbox = await Inbox.open({ dir, holdMaterialisation: true });
for (const item of list) {
  const entry = await inbox.add(item.clip, new Uint8Array(await readFile(item.path)), item.receipt);
  process.stdout.write(`added ${JSON.stringify(entry.receipt)}\n`);
}
// Wait to be killed, the clips still only in the journal.
setInterval(() => undefined, 1000);
