// Checks that vk_alphabeta_12 in an exported verification_key.json equals
// e(vk_alpha_1, vk_beta_2) as computed by ffjavascript (snarkjs's field library), i.e.
// that Urna writes the Fq12 element in snarkjs's coefficient order (PROTOCOL 14.9).
// Usage: node check-alphabeta.mjs <verification_key.json>
import { buildBn128, utils } from "ffjavascript";
import fs from "fs";

const text = fs.readFileSync(process.argv[2], "utf8");
const vk = utils.unstringifyBigInts(JSON.parse(text));
const curve = await buildBn128(true);
const ab = curve.pairing(curve.G1.fromObject(vk.vk_alpha_1), curve.G2.fromObject(vk.vk_beta_2));
const expected = JSON.stringify(utils.stringifyBigInts(curve.Gt.toObject(ab)));
const actual = JSON.stringify(JSON.parse(text).vk_alphabeta_12);
if (expected !== actual) {
  console.error("vk_alphabeta_12 differs from ffjavascript's e(alpha, beta)");
  process.exit(1);
}
console.log("vk_alphabeta_12 OK");
process.exit(0);
