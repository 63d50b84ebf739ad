// SPDX-License-Identifier: MIT
// A second MQTT implementation for the end-to-end tests: aedes (npm), an
// MQTT 3.1.1/5 broker in Node.js, in memory (no persistence), anonymous,
// like the tests' mosquitto. tools/deps.sh installs it in /opt/oak/aedes.
//
//   node tools/brokers/aedes.mjs ADDR [PORT]      (default port 1883)
//
// AEDES_DIR overrides where aedes is installed. Ends on SIGTERM/SIGINT.
import net from 'node:net'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const dir = process.env.AEDES_DIR || '/opt/oak/aedes'
const host = process.argv[2] || '127.0.0.1'
const port = Number(process.argv[3] || 1883)
const entry = pathToFileURL(path.join(dir, 'node_modules', 'aedes', 'aedes.js')).href
const { Aedes } = await import(entry)

const broker = await Aedes.createBroker()
const server = net.createServer(broker.handle)
broker.on('clientError', (client, err) => console.log(`client ${client.id}: ${err.message}`))
server.on('error', (err) => {
  console.error(`aedes: ${err.message}`)
  process.exit(1)
})
server.listen(port, host, () => console.log(`aedes listening on ${host}:${port}`))
const stop = () => server.close(() => broker.close(() => process.exit(0)))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
