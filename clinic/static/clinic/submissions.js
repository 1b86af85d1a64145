// A create form's one-time key (clinic.submissions) is made a value the page changed, which
// browsers keep with what the user typed when they go back to the page: sending the form again
// from there is the same submission, saved once. Forms work the same without this script.
document.querySelectorAll('input[name="submission_key"]').forEach(function (input) {
  var key = input.value;
  input.defaultValue = "";
  input.value = key;
});
