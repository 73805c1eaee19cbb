// Package auth holds passwords, tokens, roles and permissions.
//
// It is pure logic shared by the store and the API: password hashing (argon2id in PHC format),
// bearer tokens (random, stored only as their SHA-256), the user roles and the permission
// checks the API's route table uses. It never touches the database.
package auth
