import net from 'node:net';
import { SerialPort } from 'serialport';
import { hasValidCrc, withCrc } from '../modbus/crc.js';
import { EXCEPTION } from './device.js';
import { exceptionPdu } from './pdu.js';
import type { RtuSlave } from './rtu-slave.js';

/**
 * Ways to reach a simulated bus from outside the process:
 * - RTU frames over TCP: an RS-485-to-Ethernet gateway in transparent mode (modbus-serial connectTelnet);
 * - Modbus TCP (MBAP): a gateway that converts to RTU (mbpoll -m tcp);
 * - a serial device, e.g. one end of a socat pty pair.
 */
export interface Listener {
  readonly host: string;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

export interface SerialEndpoint {
  readonly path: string;
  close(): Promise<void>;
}

async function listen(host: string, port: number, onSocket: (socket: net.Socket) => void): Promise<Listener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy()); // a client vanishing is not our error
    onSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    host,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** RTU frames over TCP, byte for byte, like a transparent RS-485 gateway. */
export function serveRtuOverTcp(slave: RtuSlave, host = '127.0.0.1', port = 0): Promise<Listener> {
  return listen(host, port, (socket) => {
    const link = slave.openLink((reply) => {
      if (!socket.destroyed) socket.write(reply);
    });
    socket.on('data', (chunk: Buffer) => link.receive(chunk));
    socket.on('close', () => link.close());
  });
}

const MBAP_HEADER = 7; // transaction id, protocol id, length, unit id

/**
 * Modbus TCP: each MBAP request becomes an RTU frame on the bus. A device that does not answer, or
 * answers with a broken frame, gets exception 0x0B (gateway target device failed to respond), as a
 * Modbus TCP gateway reports it (Modbus application protocol V1.1b, section 7).
 */
export function serveModbusTcp(slave: RtuSlave, host = '127.0.0.1', port = 0): Promise<Listener> {
  return listen(host, port, (socket) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= MBAP_HEADER) {
        const length = buf.readUInt16BE(4);
        if (buf.readUInt16BE(2) !== 0 || length < 2 || length > 254) {
          socket.destroy(); // not Modbus TCP: close, as a real server would
          return;
        }
        if (buf.length < 6 + length) break;
        const adu = buf.subarray(0, 6 + length);
        buf = buf.subarray(6 + length);
        void answerMbap(slave, adu).then((reply) => {
          if (!socket.destroyed) socket.write(reply);
        });
      }
    });
  });
}

async function answerMbap(slave: RtuSlave, adu: Buffer): Promise<Buffer> {
  const unit = adu.readUInt8(6);
  const pdu = adu.subarray(7);
  const reply = await slave.submit(withCrc(Buffer.concat([Buffer.from([unit]), pdu])));
  const replyPdu = reply && hasValidCrc(reply) ? reply.subarray(1, reply.length - 2) : exceptionPdu(pdu.readUInt8(0), EXCEPTION.gatewayTargetFailed);
  const out = Buffer.alloc(MBAP_HEADER + replyPdu.length);
  adu.copy(out, 0, 0, 4); // same transaction and protocol id
  out.writeUInt16BE(replyPdu.length + 1, 4);
  out.writeUInt8(unit, 6);
  replyPdu.copy(out, MBAP_HEADER);
  return out;
}

export interface SerialOptions {
  readonly baudRate?: number;
  readonly parity?: 'none' | 'even' | 'odd';
  readonly stopBits?: 1 | 2;
}

/** Serves the bus on a serial device (a USB-RS485 adapter, or a pty from socat). */
export async function serveSerial(slave: RtuSlave, path: string, o: SerialOptions = {}): Promise<SerialEndpoint> {
  const port = new SerialPort({ path, baudRate: o.baudRate ?? 9600, parity: o.parity ?? 'none', stopBits: o.stopBits ?? 2, dataBits: 8, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const link = slave.openLink((reply) => {
    if (port.isOpen) port.write(reply);
  });
  port.on('data', (chunk: Buffer) => link.receive(chunk));
  port.on('error', () => undefined); // the other end of a pty going away is not fatal for the simulator
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        link.close();
        if (!port.isOpen) {
          resolve();
          return;
        }
        port.close(() => resolve());
      }),
  };
}
