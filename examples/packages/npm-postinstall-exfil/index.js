module.exports = function leftPad(text, width, fill = " ") {
  text = String(text);
  while (text.length < width) text = fill + text;
  return text;
};
