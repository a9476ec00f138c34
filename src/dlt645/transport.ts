import net from 'node:net';
import { SerialPort } from 'serialport';
import type { LineSettings } from '../modbus/wire-time.js';

/**
 * A raw byte pipe to an RS-485 line: a serial adapter, or a TCP socket to an RS-485-to-Ethernet
 * gateway in transparent mode (it forwards bytes both ways and adds nothing).
 */
export interface ByteTransport {
  /** For messages, e.g. "/dev/ttyUSB0 9600 8E1" or "tcp 192.168.1.50:8899". */
  readonly description: string;
  write(bytes: Buffer): Promise<void>;
  onData(listener: (chunk: Buffer) => void): void;
  onClose(listener: (reason: string) => void): void;
  /** Drops bytes received but not yet read (the OS buffer of a serial port). */
  discardInput(): Promise<void>;
  close(): Promise<void>;
}

export const lineName = (l: LineSettings): string => `${l.baudRate} 8${l.parity[0]?.toUpperCase() ?? 'N'}${l.stopBits}`;

export async function openTcpTransport(host: string, port: number, connectTimeoutMs = 3000): Promise<ByteTransport> {
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`cannot connect to ${host}:${port}: no answer within ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot connect to ${host}:${port}: ${e.message}`));
    });
  });
  socket.on('error', () => socket.destroy()); // reported through 'close'
  return {
    description: `tcp ${host}:${port}`,
    write: (bytes) => new Promise((resolve, reject) => socket.write(bytes, (e) => (e ? reject(e) : resolve()))),
    onData: (listener) => void socket.on('data', listener),
    onClose: (listener) => void socket.on('close', () => listener(`connection to ${host}:${port} closed`)),
    discardInput: () => Promise.resolve(),
    close: () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) {
          resolve();
          return;
        }
        socket.once('close', () => resolve());
        socket.end();
        setTimeout(() => socket.destroy(), 200).unref();
      }),
  };
}

export async function openSerialTransport(path: string, line: LineSettings): Promise<ByteTransport> {
  const port = new SerialPort({ path, baudRate: line.baudRate, parity: line.parity, stopBits: line.stopBits, dataBits: 8, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(new Error(`cannot open ${path}: ${e.message}`)) : resolve())));
  port.on('error', () => undefined); // reported through 'close' or as a timeout
  return {
    description: `${path} ${lineName(line)}`,
    write: (bytes) => new Promise((resolve, reject) => port.write(bytes, (e) => (e ? reject(e) : port.drain(() => resolve())))),
    onData: (listener) => void port.on('data', listener),
    onClose: (listener) => void port.on('close', () => listener(`${path} closed`)),
    discardInput: () => new Promise((resolve) => (port.isOpen ? port.flush(() => resolve()) : resolve())),
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}
