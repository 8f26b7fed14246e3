#!/bin/sh
# Regenerates the sidecar's stock prompts: 8 kHz, 16-bit, mono WAV files, spoken by espeak-ng
# (Debian package espeak-ng) and converted by sox (Debian package sox). The files are committed;
# run this only to change them. Operators replace any prompt by putting a file of the same name
# in the [rtp] sounds directory.
#
# Usage: sounds/generate.sh [voice]   (default voice: en-us)
set -eu
cd "$(dirname "$0")"
voice=${1:-en-us}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

say() { # say NAME TEXT
	espeak-ng -v "$voice" -s 150 -w "$tmp/$1.wav" "$2"
	# 8 kHz mono 16-bit, trimmed of leading/trailing silence, normalized to -3 dBFS.
	sox "$tmp/$1.wav" -r 8000 -c 1 -b 16 "$1.wav" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse norm -3
}

mkdir -p digits "$tmp/digits"
for d in 0 1 2 3 4 5 6 7 8 9; do
	say "digits/$d" "$d"
done
say digits/star "star"
say digits/hash "pound"
for n in 10 11 12 13 14 15 16 17 18 19 20 30 40 50 60 70 80 90; do
	say "digits/$n" "$n"
done
say digits/hundred "hundred"
say digits/thousand "thousand"
say digits/million "million"
say digits/minus "minus"

say hello "Hello."
say hello-world "Hello world."
say welcome "Welcome to the sidecar echo test. Speak, and you will hear yourself. Press pound to end."
say please-enter "Please enter the number, followed by pound."
say you-entered "You entered"
say thank-you "Thank you."
say goodbye "Goodbye."
say invalid "That is not valid."

# VoiceMail and VoiceMailMain with the mailbox store unreachable ([voicemail] unavailable).
say vm-unavailable "The mailbox is not available. Please try again later."

# A short 1 kHz beep.
sox -n -r 8000 -c 1 -b 16 beep.wav synth 0.25 sine 1000 vol 0.5
