//! The binary half of the example crate: prints what the library computes.

use textkit::{hanoi, primes, rpn, word_counts};

fn main() {
    let p = primes(100);
    println!("{} primes below 100, the last {:?}", p.len(), &p[p.len() - 3..]);

    let counts = word_counts("the quick brown fox jumps over the lazy dog the end");
    let common: Vec<String> = counts
        .iter()
        .filter(|(_, &c)| c > 1)
        .map(|(w, c)| format!("{} x{}", w, c))
        .collect();
    println!("{} distinct words; repeated: {}", counts.len(), common.join(", "));

    for expr in &["3 4 + 2 *", "1 2 3 * - 5 +", "7 +", "2 x *"] {
        match rpn(expr) {
            Ok(v) => println!("rpn \"{}\" = {}", expr, v),
            Err(e) => println!("rpn \"{}\": error: {}", expr, e),
        }
    }

    let mut moves = Vec::new();
    hanoi(10, 'A', 'C', 'B', &mut moves);
    let checksum = moves
        .iter()
        .fold(0u32, |h, &(a, b)| h.wrapping_mul(31) ^ (a as u32 * 7 + b as u32));
    println!("hanoi(10): {} moves, first {:?}, checksum {:08x}", moves.len(), moves[0],
             checksum);
}
