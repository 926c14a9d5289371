//! A tiny SoundFont 2 file for the tests (SoundFont 2.01 specification, sections 4-8): one
//! looped sample (a 441 Hz sawtooth with its second harmonic, 22.05 kHz, 16-bit), one instrument
//! playing it over the whole keyboard, and one preset per `(bank, program)` asked for, each
//! pointing at that instrument.

fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    out
}

fn list(kind: &[u8; 4], chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut body = kind.to_vec();
    for c in chunks {
        body.extend_from_slice(c);
    }
    chunk(b"LIST", &body)
}

fn name20(s: &str) -> [u8; 20] {
    let mut n = [0u8; 20];
    n[..s.len()].copy_from_slice(s.as_bytes());
    n
}

/// Generator operators used (SoundFont 2.01, section 8.1.2).
const GEN_INSTRUMENT: u16 = 41;
const GEN_SAMPLE_ID: u16 = 53;
const GEN_SAMPLE_MODES: u16 = 54;

/// The bytes of a SoundFont with a preset for every `(bank, program)` of `presets`.
pub fn tiny_soundfont(presets: &[(u16, u8)]) -> Vec<u8> {
    // 2,205 frames = 44 whole periods of 50 frames (441 Hz at 22,050 Hz), then the 46 zero
    // frames the specification asks after each sample.
    let period = 50;
    let frames = 44 * period;
    let mut smpl = Vec::new();
    for n in 0..frames {
        let phase = (n % period) as f32 / period as f32;
        let v = 0.4 * (2.0 * phase - 1.0) + 0.2 * (4.0 * std::f32::consts::PI * phase).sin();
        smpl.extend_from_slice(&((v * 32767.0) as i16).to_le_bytes());
    }
    smpl.extend_from_slice(&[0u8; 92]);

    let info = list(
        b"INFO",
        &[
            chunk(b"ifil", &[2, 0, 1, 0]),
            chunk(b"INAM", b"tiny test soundfont\0"),
        ],
    );
    let sdta = list(b"sdta", &[chunk(b"smpl", &smpl)]);

    let (mut phdr, mut pbag, mut pgen) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &(bank, program)) in presets.iter().enumerate() {
        phdr.extend_from_slice(&name20(&format!("preset {bank}:{program}")));
        phdr.extend_from_slice(&u16::from(program).to_le_bytes());
        phdr.extend_from_slice(&bank.to_le_bytes());
        phdr.extend_from_slice(&(i as u16).to_le_bytes());
        phdr.extend_from_slice(&[0u8; 12]); // library, genre, morphology
        pbag.extend_from_slice(&(i as u16).to_le_bytes());
        pbag.extend_from_slice(&0u16.to_le_bytes());
        pgen.extend_from_slice(&GEN_INSTRUMENT.to_le_bytes());
        pgen.extend_from_slice(&0u16.to_le_bytes());
    }
    let n = presets.len() as u16;
    phdr.extend_from_slice(&name20("EOP"));
    phdr.extend_from_slice(&[0u8; 4]);
    phdr.extend_from_slice(&n.to_le_bytes());
    phdr.extend_from_slice(&[0u8; 12]);
    pbag.extend_from_slice(&n.to_le_bytes());
    pbag.extend_from_slice(&0u16.to_le_bytes());
    pgen.extend_from_slice(&[0u8; 4]);

    let mut inst = name20("saw").to_vec();
    inst.extend_from_slice(&0u16.to_le_bytes());
    inst.extend_from_slice(&name20("EOI"));
    inst.extend_from_slice(&1u16.to_le_bytes());
    let ibag: Vec<u8> = [0u16, 0, 2, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    // Loop continuously (mode 1), then the sample, last as the specification requires.
    let igen: Vec<u8> = [GEN_SAMPLE_MODES, 1, GEN_SAMPLE_ID, 0, 0, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();

    let mut shdr = name20("saw441").to_vec();
    for v in [
        0u32,
        frames as u32,
        4 * period as u32,
        40 * period as u32,
        22_050,
    ] {
        shdr.extend_from_slice(&v.to_le_bytes());
    }
    shdr.push(69); // original pitch: A4 (441 Hz is 4 cents sharp; close enough for tests)
    shdr.push(0); // pitch correction
    shdr.extend_from_slice(&0u16.to_le_bytes()); // link
    shdr.extend_from_slice(&1u16.to_le_bytes()); // mono sample
    shdr.extend_from_slice(&name20("EOS"));
    shdr.extend_from_slice(&[0u8; 26]);

    let pdta = list(
        b"pdta",
        &[
            chunk(b"phdr", &phdr),
            chunk(b"pbag", &pbag),
            chunk(b"pmod", &[0u8; 10]),
            chunk(b"pgen", &pgen),
            chunk(b"inst", &inst),
            chunk(b"ibag", &ibag),
            chunk(b"imod", &[0u8; 10]),
            chunk(b"igen", &igen),
            chunk(b"shdr", &shdr),
        ],
    );
    let mut body = b"sfbk".to_vec();
    body.extend_from_slice(&info);
    body.extend_from_slice(&sdta);
    body.extend_from_slice(&pdta);
    chunk(b"RIFF", &body)
}
