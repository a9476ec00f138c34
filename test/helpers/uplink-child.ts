/**
 * A child process for the kill -9 test: replays the queue file given on the command line to the broker
 * until killed. Arguments: queue path, broker URL, topic prefix, site id, replay rate (messages/s).
 */
import { uplinkConfigSchema } from '../../src/uplink/uplink-config.js';
import { Uplink } from '../../src/uplink/uplink.js';

const [queuePath, url, topicPrefix, siteId, rate] = process.argv.slice(2);
if (!queuePath || !url || !topicPrefix || !siteId || !rate) throw new Error('usage: uplink-child <queue> <url> <prefix> <site> <rate>');
const config = uplinkConfigSchema.parse({
  url,
  topicPrefix,
  clientId: `${siteId}-child`,
  replay: { maxPerSecond: Number(rate), inflight: 32 },
  queue: { flushDelayMs: 200 },
});
const uplink = new Uplink({ config, siteId, queuePath });
uplink.start();
setInterval(() => {
  process.stdout.write(`${JSON.stringify(uplink.status())}\n`);
}, 200);
