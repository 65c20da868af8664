// Socket.IO 4.8 doing what the relay does in `cargo xtask bench relay`: every event a
// publisher emits is broadcast to every other connected client. WebSocket transport only,
// no compression, as the relay. Prints "listening PORT" once ready.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] ?? 0);
const http = createServer();
const io = new Server(http, { transports: ["websocket"], perMessageDeflate: false, serveClient: false });
io.on("connection", (socket) => {
  socket.on("publish", (data) => socket.broadcast.emit("event", data));
});
http.listen(port, "127.0.0.1", () => console.log(`listening ${http.address().port}`));
